"""azfiles: an emulator of the Azure Files REST API (tests/emulator).

Modules: cli (command line), server (HTTP front end), router (operation
names), auth (Shared Key and SAS), faults (fault injection), store
(persistent state), names (name rules), ops_share / ops_dir / ops_file /
ops_move (REST operations), xmlout (XML bodies), errors (service errors),
util (times, ids, etags, headers).
"""
