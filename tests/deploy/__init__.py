"""Tests of the deployment kits under deploy/: generated files checked without running the nodes."""
