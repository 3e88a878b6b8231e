"""The monthly failure drill: a controlled failover, measured as the clients see it."""
