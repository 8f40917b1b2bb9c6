"""The composition root: the ``confirmnet`` command line, the launcher of local networks and the
demo. It stands above the three packages (``node_gateway``, ``bank_adapter``, ``auditor_client``)
and is the one place that knows them all."""
