"""Analysis works on models only: no SDKs, no network, no terminal."""
