"""Project register pages: `charter` (list, register, charter, status, progress, team,
history) and `diagram` (the driver diagram editor and exports). The project page itself
combines sections from the layers above and lives in reports.views."""
