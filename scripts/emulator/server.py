"""Runs moto's server, with DynamoDB Query spared a sort of the whole table.

moto 5.2.5 answers every Query, on the table or on an index, by listing every item of the
table sorted by primary key, then keeping the items whose keys match and sorting those again.
The first sort compares key objects in Python and costs about 0.3 s per Query at 25,000 items,
which makes a long local replay take hours. Query re-sorts its candidates itself, so their
order on the way in does not matter. While a Query runs, this launcher hands it the candidates
unsorted: for a table query the items of the asked partition, for an index query the items
whose index key equals the asked one. Query applies its own key checks to them as before, so
the answers are the same; `test_server.py` checks them against moto's own.

Usage: python scripts/emulator/server.py -H 127.0.0.1 -p PORT (the flags of moto_server).
"""

import sys
import threading

from moto.dynamodb.models.table import Table
from moto.server import main

_local = threading.local()
_sorted_all_items = Table.all_items
_query = Table.query


def _all_items(self):
    """Returns the candidates of the Query running on this thread, or every item sorted."""
    candidates = getattr(_local, "candidates", None)
    if candidates is not None and candidates[0] is self:
        return candidates[1]()
    return _sorted_all_items(self)


def _unsorted_items(table):
    """Returns every item of `table`, in no particular order."""
    if not table.range_key_attr:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _index_items(table, conditions):
    """Returns the items of `table` whose attributes equal every (name, value) in `conditions`,
    in no particular order. Query checks the same conditions again on what this returns."""
    return [
        item
        for item in _unsorted_items(table)
        if all(_equals(item.attrs.get(name), value) for name, value in conditions)
    ]


def _equals(attribute, value):
    """Returns whether an item's attribute, possibly missing, equals a key value."""
    return attribute is not None and attribute == value


def _partition_items(table, hash_key):
    """Returns the items of one partition of `table`, in no particular order."""
    partition = table.items.get(hash_key)
    if partition is None:
        return []
    return list(partition.values())


def _fast_query(self, hash_key, *args, **kwargs):
    """Runs moto's Query with unsorted candidates; see the module's description."""
    # Positional arguments after `hash_key`, as moto passes them: index_name is the seventh.
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    conditions = kwargs.get("hash_key_conditions")
    if index_name and conditions:
        candidates = lambda: _index_items(self, conditions)  # noqa: E731
    elif index_name:
        candidates = lambda: _unsorted_items(self)  # noqa: E731
    elif self.range_key_attr and hash_key is not None:
        candidates = lambda: _partition_items(self, hash_key)  # noqa: E731
    else:
        return _query(self, hash_key, *args, **kwargs)
    _local.candidates = (self, candidates)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        _local.candidates = None


def install():
    """Replaces moto's Query candidate listing with the unsorted one."""
    Table.all_items = _all_items
    Table.query = _fast_query


def uninstall():
    """Restores moto's own methods."""
    Table.all_items = _sorted_all_items
    Table.query = _query


if __name__ == "__main__":
    install()
    sys.exit(main())
