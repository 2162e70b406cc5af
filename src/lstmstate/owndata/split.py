"""The split of the user's sequence: a training part, and the held-out part every framing and
every baseline is scored on.

The held-out part is the last fraction of the sequence. Every framing is scored on the same
targets, the items at positions ``train_items .. items-1``; a sample whose target is there may
read earlier items as its input (they are context, not answers), but no training sample has a
target there::

    items     0 1 2 3 4 5 6 7 8 9        --holdout 0.2, items = 10, train_items = 8
              [ training part ] [held]   training targets 1..7, held-out targets 8, 9
"""

from dataclasses import dataclass

@dataclass(frozen=True)
class Split:
    """A sequence of ``items`` cut into a training part and a held-out part."""

    items: int  # length of the whole sequence
    train_items: int  # items 0..train_items-1 train; the rest is held out
    fraction: float  # the held-out fraction the user asked for

    @property
    def held_out_items(self) -> int:
        return self.items - self.train_items

    def describe(self) -> str:
        return (f"training part {self.train_items}, held-out part {self.held_out_items} "
                f"(the last {100 * self.fraction:g}%)")


def split(items: int, fraction: float, needed: int = 2) -> Split:
    """The split of ``items`` holding out the last ``fraction`` (at least one item); the training
    part must hold at least ``needed`` items (a window plus its target, or one pair)."""
    if not 0 < fraction < 1:
        raise ValueError(f"--holdout must lie strictly between 0 and 1, got {fraction:g}")
    held = int(round(items * fraction))
    if held < 1:
        raise ValueError(f"the sequence has {items} items, too short for --holdout {fraction:g}: "
                         f"that holds out no item; hold out more or give more data")
    train = items - held
    if train < needed:
        raise ValueError(f"the sequence has {items} items: --holdout {fraction:g} leaves {train} for training, "
                         f"too short (it needs at least {needed}); give more data or a smaller holdout or window")
    return Split(items, train, fraction)
