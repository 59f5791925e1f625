"""The local Kubernetes API-server fixture (`server.FakeKubeAPI`) and its manifests."""
