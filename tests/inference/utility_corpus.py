"""Analyst questions over the public chinook sample database (../shared/fixtures/chinook.sqlite), in SQLite SQL.

The usual questions asked of a music store's data: sales by country, by genre, by employee, top customers,
tracks and albums, playlists, invoices over time. They were written as an analyst would, not for Maskwire's
rule. `protected` marks those whose answer depends on personal values beyond equality (ordering or pattern
matching on names, addresses, birth dates, per the fixture README's list of personal columns): the rule may
refuse those; every other one must run.
"""

from __future__ import annotations

# (sql, protected)
QUERIES: list[tuple[str, bool]] = [
    # catalogue
    ("SELECT Name FROM Genre ORDER BY Name", False),
    ("SELECT Name FROM MediaType", False),
    ("SELECT count(*) AS tracks FROM Track", False),
    (
        "SELECT g.Name, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name ORDER BY tracks DESC",
        False,
    ),
    (
        "SELECT a.Title, ar.Name FROM Album a JOIN Artist ar ON ar.ArtistId = a.ArtistId ORDER BY a.Title LIMIT 20",
        False,
    ),
    (
        "SELECT ar.Name, count(a.AlbumId) AS albums FROM Artist ar LEFT JOIN Album a ON a.ArtistId = ar.ArtistId GROUP BY ar.ArtistId, ar.Name ORDER BY albums DESC LIMIT 10",
        False,
    ),
    ("SELECT Name, Milliseconds / 60000.0 AS minutes FROM Track ORDER BY Milliseconds DESC LIMIT 10", False),
    ("SELECT avg(Milliseconds) / 1000.0 AS avg_seconds FROM Track", False),
    (
        "SELECT g.Name, avg(t.Milliseconds) / 1000 AS avg_seconds FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name",
        False,
    ),
    (
        "SELECT m.Name, count(*) AS n FROM Track t JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId GROUP BY m.Name ORDER BY n DESC",
        False,
    ),
    (
        "SELECT Composer, count(*) AS n FROM Track WHERE Composer IS NOT NULL GROUP BY Composer ORDER BY n DESC LIMIT 10",
        False,
    ),
    ("SELECT Name FROM Track WHERE Composer = 'AC/DC'", False),
    ("SELECT Name, UnitPrice FROM Track WHERE UnitPrice > 0.99", False),
    ("SELECT UnitPrice, count(*) AS n FROM Track GROUP BY UnitPrice", False),
    (
        "SELECT a.Title, sum(t.Milliseconds) / 60000 AS minutes FROM Album a JOIN Track t ON t.AlbumId = a.AlbumId GROUP BY a.AlbumId, a.Title ORDER BY minutes DESC LIMIT 5",
        False,
    ),
    (
        "SELECT a.Title, count(t.TrackId) AS tracks FROM Album a JOIN Track t ON t.AlbumId = a.AlbumId GROUP BY a.AlbumId, a.Title HAVING count(t.TrackId) > 20",
        False,
    ),
    ("SELECT Name FROM Track WHERE Name LIKE '%love%'", False),
    ("SELECT Title FROM Album WHERE Title LIKE 'The %'", False),
    ("SELECT ar.Name FROM Artist ar WHERE NOT EXISTS (SELECT 1 FROM Album a WHERE a.ArtistId = ar.ArtistId)", False),
    ("SELECT max(Bytes) / 1048576.0 AS mb FROM Track", False),
    (
        "SELECT g.Name, sum(t.Bytes) / 1048576 AS mb FROM Track t JOIN Genre g USING (GenreId) GROUP BY g.Name ORDER BY mb DESC",
        False,
    ),
    (
        "SELECT DISTINCT g.Name FROM Genre g JOIN Track t ON t.GenreId = g.GenreId JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId WHERE m.Name LIKE '%video%'",
        False,
    ),
    # playlists
    (
        "SELECT p.Name, count(pt.TrackId) AS tracks FROM Playlist p JOIN PlaylistTrack pt ON pt.PlaylistId = p.PlaylistId GROUP BY p.PlaylistId, p.Name ORDER BY tracks DESC",
        False,
    ),
    (
        "SELECT t.Name FROM PlaylistTrack pt JOIN Track t ON t.TrackId = pt.TrackId WHERE pt.PlaylistId = 1 LIMIT 20",
        False,
    ),
    (
        "SELECT p.Name FROM Playlist p WHERE NOT EXISTS (SELECT 1 FROM PlaylistTrack pt WHERE pt.PlaylistId = p.PlaylistId)",
        False,
    ),
    (
        "SELECT g.Name, count(*) AS n FROM PlaylistTrack pt JOIN Track t ON t.TrackId = pt.TrackId JOIN Genre g ON g.GenreId = t.GenreId WHERE pt.PlaylistId = 5 GROUP BY g.Name",
        False,
    ),
    # sales over time
    ("SELECT sum(Total) AS revenue FROM Invoice", False),
    (
        "SELECT strftime('%Y', InvoiceDate) AS year, sum(Total) AS revenue FROM Invoice GROUP BY year ORDER BY year",
        False,
    ),
    (
        "SELECT strftime('%Y-%m', InvoiceDate) AS month, count(*) AS invoices, sum(Total) AS revenue FROM Invoice GROUP BY month ORDER BY month",
        False,
    ),
    ("SELECT avg(Total) AS average_invoice FROM Invoice", False),
    ("SELECT max(Total), min(Total) FROM Invoice", False),
    ("SELECT InvoiceId, Total FROM Invoice ORDER BY Total DESC LIMIT 10", False),
    ("SELECT count(*) FROM Invoice WHERE InvoiceDate >= '2010-01-01' AND InvoiceDate < '2011-01-01'", False),
    ("SELECT InvoiceId, count(*) AS lines FROM InvoiceLine GROUP BY InvoiceId ORDER BY lines DESC LIMIT 5", False),
    ("SELECT sum(UnitPrice * Quantity) AS revenue FROM InvoiceLine", False),
    (
        "SELECT t.Name, sum(il.Quantity) AS sold FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId GROUP BY t.TrackId, t.Name ORDER BY sold DESC LIMIT 10",
        False,
    ),
    (
        "SELECT g.Name, sum(il.UnitPrice * il.Quantity) AS revenue FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name ORDER BY revenue DESC",
        False,
    ),
    (
        "SELECT ar.Name, sum(il.UnitPrice * il.Quantity) AS revenue FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN Album a ON a.AlbumId = t.AlbumId JOIN Artist ar ON ar.ArtistId = a.ArtistId GROUP BY ar.Name ORDER BY revenue DESC LIMIT 10",
        False,
    ),
    (
        "SELECT m.Name, sum(il.Quantity) AS sold FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN MediaType m ON m.MediaTypeId = t.MediaTypeId GROUP BY m.Name",
        False,
    ),
    (
        "SELECT a.Title, sum(il.Quantity) AS sold FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId JOIN Album a ON a.AlbumId = t.AlbumId GROUP BY a.AlbumId, a.Title ORDER BY sold DESC LIMIT 5",
        False,
    ),
    ("SELECT count(DISTINCT TrackId) AS tracks_sold FROM InvoiceLine", False),
    (
        "SELECT count(*) FROM Track t WHERE NOT EXISTS (SELECT 1 FROM InvoiceLine il WHERE il.TrackId = t.TrackId)",
        False,
    ),
    (
        "SELECT strftime('%Y', i.InvoiceDate) AS year, g.Name, sum(il.Quantity) AS sold FROM Invoice i JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId GROUP BY year, g.Name ORDER BY year, sold DESC",
        False,
    ),
    (
        "SELECT InvoiceId, Total, sum(Total) OVER (ORDER BY InvoiceDate, InvoiceId) AS running FROM Invoice ORDER BY InvoiceDate, InvoiceId LIMIT 20",
        False,
    ),
    (
        "SELECT strftime('%Y', InvoiceDate) AS year, Total, rank() OVER (PARTITION BY strftime('%Y', InvoiceDate) ORDER BY Total DESC) AS r FROM Invoice",
        False,
    ),
    (
        "WITH yearly AS (SELECT strftime('%Y', InvoiceDate) AS y, sum(Total) AS t FROM Invoice GROUP BY y) SELECT y, t, t - lag(t) OVER (ORDER BY y) AS change FROM yearly",
        False,
    ),
    (
        "SELECT CASE WHEN Total < 2 THEN 'small' WHEN Total < 10 THEN 'medium' ELSE 'large' END AS size, count(*) AS n FROM Invoice GROUP BY size",
        False,
    ),
    ("SELECT InvoiceId FROM Invoice WHERE Total > (SELECT avg(Total) FROM Invoice)", False),
    # by country and city (billing address parts are personal in the fixture's labels)
    (
        "SELECT BillingCountry, count(*) AS invoices, sum(Total) AS revenue FROM Invoice GROUP BY BillingCountry ORDER BY revenue DESC",
        False,
    ),
    ("SELECT BillingCountry, sum(Total) AS revenue FROM Invoice GROUP BY BillingCountry ORDER BY BillingCountry", True),
    ("SELECT BillingCity, count(*) AS n FROM Invoice GROUP BY BillingCity ORDER BY n DESC LIMIT 10", False),
    ("SELECT count(DISTINCT BillingCountry) FROM Invoice", False),
    ("SELECT sum(Total) FROM Invoice WHERE BillingCountry = 'USA'", False),
    ("SELECT BillingCountry, avg(Total) AS avg_total FROM Invoice GROUP BY BillingCountry HAVING count(*) > 10", False),
    (
        "SELECT BillingCountry, count(*) FROM Invoice WHERE BillingCountry IN ('USA', 'Canada', 'France') GROUP BY BillingCountry",
        False,
    ),
    ("SELECT Country, count(*) AS customers FROM Customer GROUP BY Country ORDER BY customers DESC", False),
    ("SELECT Country, count(*) AS customers FROM Customer GROUP BY Country ORDER BY Country", True),
    (
        "SELECT c.Country, sum(i.Total) AS revenue FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country ORDER BY revenue DESC LIMIT 5",
        False,
    ),
    ("SELECT BillingState, sum(Total) FROM Invoice WHERE BillingCountry = 'USA' GROUP BY BillingState", False),
    ("SELECT BillingCountry FROM Invoice WHERE BillingCountry LIKE 'U%' GROUP BY BillingCountry", True),
    (
        "SELECT g.Name, count(*) AS sold FROM Invoice i JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId WHERE i.BillingCountry = 'Brazil' GROUP BY g.Name ORDER BY sold DESC",
        False,
    ),
    # customers
    ("SELECT count(*) FROM Customer", False),
    ("SELECT CustomerId, FirstName, LastName, Country FROM Customer WHERE Country = 'Brazil'", False),
    ("SELECT FirstName, LastName, Email FROM Customer WHERE Country = 'USA'", False),
    (
        "SELECT c.FirstName, c.LastName, sum(i.Total) AS spent FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.CustomerId, c.FirstName, c.LastName ORDER BY spent DESC LIMIT 5",
        False,
    ),
    (
        "SELECT c.CustomerId, count(i.InvoiceId) AS invoices FROM Customer c LEFT JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.CustomerId ORDER BY invoices DESC",
        False,
    ),
    ("SELECT CustomerId, Company FROM Customer WHERE Company IS NOT NULL", False),
    ("SELECT count(*) FROM Customer WHERE Company IS NULL", False),
    ("SELECT LastName, FirstName FROM Customer ORDER BY LastName, FirstName", True),
    ("SELECT FirstName, LastName FROM Customer WHERE LastName LIKE 'S%'", True),
    ("SELECT Email FROM Customer WHERE Email LIKE '%@gmail.com'", True),
    (
        "SELECT c.Email, max(i.InvoiceDate) AS last_purchase FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.Email",
        False,
    ),
    (
        "SELECT c.CustomerId, c.Country, sum(i.Total) AS spent, rank() OVER (PARTITION BY c.Country ORDER BY sum(i.Total) DESC) AS r FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.CustomerId, c.Country",
        False,
    ),
    (
        "SELECT c.CustomerId FROM Customer c WHERE NOT EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId AND i.InvoiceDate >= '2013-01-01')",
        False,
    ),
    (
        "SELECT c.CustomerId, count(DISTINCT g.GenreId) AS genres FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId JOIN Track t ON t.TrackId = il.TrackId JOIN Genre g ON g.GenreId = t.GenreId GROUP BY c.CustomerId ORDER BY genres DESC LIMIT 10",
        False,
    ),
    # computes on names (their result would be masked anyway): select the columns themselves for their tokens
    ("SELECT c.FirstName || ' ' || c.LastName AS customer, c.Email FROM Customer c WHERE c.SupportRepId = 3", True),
    ("SELECT Phone, Fax FROM Customer WHERE CustomerId = 5", False),
    ("SELECT City, count(*) FROM Customer GROUP BY City HAVING count(*) > 1", False),
    ("SELECT * FROM Customer WHERE CustomerId = 1", False),
    ("SELECT * FROM Invoice WHERE CustomerId = 1 ORDER BY InvoiceDate", False),
    (
        "SELECT c.CustomerId, avg(i.Total) AS avg_invoice FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.CustomerId HAVING avg(i.Total) > 6",
        False,
    ),
    ("SELECT PostalCode FROM Customer WHERE PostalCode LIKE '9%'", True),
    (
        "SELECT c.Country, count(DISTINCT c.CustomerId) AS customers, sum(i.Total) / count(DISTINCT c.CustomerId) AS per_customer FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY c.Country",
        False,
    ),
    # employees
    ("SELECT count(*) FROM Employee", False),
    ("SELECT EmployeeId, Title, ReportsTo FROM Employee", False),
    ("SELECT FirstName, LastName, Title FROM Employee", False),
    (
        "SELECT e.EmployeeId, count(c.CustomerId) AS customers FROM Employee e LEFT JOIN Customer c ON c.SupportRepId = e.EmployeeId GROUP BY e.EmployeeId",
        False,
    ),
    (
        "SELECT e.FirstName, e.LastName, sum(i.Total) AS sales FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY e.EmployeeId, e.FirstName, e.LastName ORDER BY sales DESC",
        False,
    ),
    (
        "SELECT e.EmployeeId, strftime('%Y', i.InvoiceDate) AS year, sum(i.Total) AS sales FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId JOIN Invoice i ON i.CustomerId = c.CustomerId GROUP BY e.EmployeeId, year ORDER BY e.EmployeeId, year",
        False,
    ),
    (
        "SELECT m.EmployeeId AS manager, count(e.EmployeeId) AS reports FROM Employee e JOIN Employee m ON m.EmployeeId = e.ReportsTo GROUP BY m.EmployeeId",
        False,
    ),
    ("SELECT Title, count(*) FROM Employee GROUP BY Title", False),
    ("SELECT EmployeeId, HireDate FROM Employee ORDER BY HireDate", True),
    ("SELECT FirstName, LastName FROM Employee WHERE BirthDate < '1965-01-01'", True),
    ("SELECT EmployeeId FROM Employee WHERE City = 'Calgary'", False),
    (
        "SELECT e.EmployeeId, e.Title, m.Title AS manager_title FROM Employee e LEFT JOIN Employee m ON m.EmployeeId = e.ReportsTo",
        False,
    ),
    ("SELECT Email FROM Employee WHERE Title = 'Sales Support Agent'", False),
    ("SELECT strftime('%Y', BirthDate) AS year FROM Employee", True),
    (
        "SELECT e.EmployeeId, count(DISTINCT c.Country) AS countries FROM Employee e JOIN Customer c ON c.SupportRepId = e.EmployeeId GROUP BY e.EmployeeId",
        False,
    ),
    # mixed
    (
        "SELECT t.Name, a.Title, ar.Name AS artist, g.Name AS genre FROM Track t JOIN Album a ON a.AlbumId = t.AlbumId JOIN Artist ar ON ar.ArtistId = a.ArtistId JOIN Genre g ON g.GenreId = t.GenreId WHERE g.Name = 'Jazz' LIMIT 20",
        False,
    ),
    (
        "SELECT i.InvoiceId, i.InvoiceDate, c.Country, i.Total FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId WHERE i.Total > 15",
        False,
    ),
    (
        "SELECT il.InvoiceId, t.Name, il.UnitPrice, il.Quantity FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId WHERE il.InvoiceId = 37",
        False,
    ),
    ("SELECT count(*) FROM (SELECT CustomerId FROM Invoice GROUP BY CustomerId HAVING sum(Total) > 40) big", False),
    (
        "WITH spend AS (SELECT CustomerId, sum(Total) AS total FROM Invoice GROUP BY CustomerId) SELECT avg(total), max(total), min(total) FROM spend",
        False,
    ),
    (
        "WITH genre_sales AS (SELECT t.GenreId, sum(il.Quantity) AS sold FROM InvoiceLine il JOIN Track t ON t.TrackId = il.TrackId GROUP BY t.GenreId) SELECT g.Name, gs.sold FROM genre_sales gs JOIN Genre g ON g.GenreId = gs.GenreId ORDER BY gs.sold DESC LIMIT 3",
        False,
    ),
    ("SELECT Name FROM Artist UNION SELECT Name FROM Genre", False),
    ("SELECT BillingCountry FROM Invoice INTERSECT SELECT Country FROM Customer", False),
    ("SELECT TrackId FROM Track EXCEPT SELECT TrackId FROM InvoiceLine", False),
    (
        "SELECT strftime('%m', InvoiceDate) AS month, round(avg(Total), 2) AS avg_total FROM Invoice GROUP BY month ORDER BY month",
        False,
    ),
    (
        "SELECT CustomerId, InvoiceDate, Total FROM (SELECT CustomerId, InvoiceDate, Total, row_number() OVER (PARTITION BY CustomerId ORDER BY InvoiceDate DESC) AS rn FROM Invoice) x WHERE rn = 1",
        False,
    ),
    (
        "SELECT g.Name, round(100.0 * count(*) / (SELECT count(*) FROM Track), 1) AS pct FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name ORDER BY pct DESC",
        False,
    ),
]
