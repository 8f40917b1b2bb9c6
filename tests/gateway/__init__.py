"""Tests of the member gateway: peer authentication, services, statistics, verification."""
