"""Plan work items, execute them against targets, limit concurrency."""
