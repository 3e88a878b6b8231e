"""Real engines the tests start on 127.0.0.1: free ports, processes stopped by PID, PostgreSQL."""
