"""Measures of improvement projects: definitions, dated data points, CSV/XLSX import, the
data grid, each measure's SPC snapshot and chart, and the task that refreshes it."""
