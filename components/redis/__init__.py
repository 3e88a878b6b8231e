"""Redis (Valkey) with Sentinel behind an HAProxy master endpoint: config renderers, start-up scripts, manifests."""
