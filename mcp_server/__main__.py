"""`python -m mcp_server` and the `maskwire` console script: the commands are imported with the garbage collector
paused (see `heap.pause`), then run."""

from mcp_server import heap


def run() -> None:
    heap.pause()
    from mcp_server.cli import run as run_command

    run_command()


if __name__ == "__main__":
    run()
