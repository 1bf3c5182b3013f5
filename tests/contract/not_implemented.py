"""The operations of the contract that the server does not implement yet (they answer 501 `not_implemented`).

This list only shrinks: implementing an operation means removing it here, and
`test_the_list_is_exactly_the_unimplemented_operations` fails until you do. Everything not listed is fuzzed by
schemathesis in test_schemathesis.py.
"""

NOT_IMPLEMENTED: frozenset[str] = frozenset()  # every operation of the contract is implemented
