"""Why a connection failed, in words that are safe to show: the categories `maskwire check` reports."""

CONNECT_TIMEOUT_SECONDS = 5
DATABASE_MISSING = "the database does not exist"
LOGIN_REFUSED = "login refused (check the user name and password)"
NOT_ALLOWED = "the user may not connect to this database"
HOST_REFUSED = "host unreachable: nothing listens on that host and port (is the server running?)"
HOST_UNKNOWN = "host unreachable: the host name does not resolve"
HOST_TIMEOUT = f"host unreachable: no answer within {CONNECT_TIMEOUT_SECONDS} s"
