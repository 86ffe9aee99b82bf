"""Where an account processor keeps accounts silent for ``cold_after_s``: out of its in-memory dict.

Why: an account is held until it has been silent for ``forget_s`` (30 days), but most of a large
provider's accounts are silent on any given day. Keeping all of them as live objects made a worker's
memory follow the accounts seen in the last month (+17 % from day 30 to day 60 of the scaling
benchmark, growing until the first accounts could be forgotten) instead of the accounts active now.
A silent account's state does not change until its next event, so it can wait as bytes elsewhere and
be decoded when it returns: :meth:`AccountState.to_bytes` round-trips every field, so results are
the same whether an account waited in memory or in the store.

The processor keeps only ``{account: the sweep boundary from which it is forgotten}`` of its cold
accounts (:func:`~distillwatch.models.account_processor.forget_boundary`, so forgetting one reads
nothing) and asks a :class:`ColdStore` for the state itself. Offline replay keeps the bytes in a
dict (:class:`BytesColdStore`); a streaming worker reads them from its table, where the account's
record was written when it last changed
(:class:`~distillwatch.streams.stages.accounts.TableColdStore`), so cooling an account there writes
nothing at all.
"""

from __future__ import annotations

from typing import Protocol

from distillwatch.models.account_state import AccountState


class ColdStore(Protocol):
    """The state of accounts the processor set aside."""

    def put(self, account: str, state: AccountState) -> None:
        """``state`` of ``account``, which stays unchanged until :meth:`take`."""

    def put_encoded(self, account: str, data: bytes) -> None:
        """As :meth:`put`, the state given as :meth:`AccountState.to_bytes` (a restore has only that)."""

    def take(self, account: str) -> AccountState | None:
        """The state :meth:`put` last, now the processor's again (``None``: the store lost it)."""

    def drop(self, account: str) -> None:
        """``account`` is forgotten (decided without its state: ``forget_boundary``)."""


class BytesColdStore:
    """Cold accounts as their encoded state in a dict (offline replay, tests): a record is about half
    the live object's bytes."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}

    def put(self, account: str, state: AccountState) -> None:
        self.records[account] = state.to_bytes()

    def put_encoded(self, account: str, data: bytes) -> None:
        self.records[account] = bytes(data)

    def take(self, account: str) -> AccountState | None:
        data = self.records.pop(account, None)
        return None if data is None else AccountState.from_bytes(data)

    def drop(self, account: str) -> None:
        del self.records[account]
