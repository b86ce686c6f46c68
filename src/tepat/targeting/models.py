"""Models of the targeting app."""
