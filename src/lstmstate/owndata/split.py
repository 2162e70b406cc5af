"""The split of the user's sequence into three parts: the fitting part the model learns from, the
validation part that every choice is made on, and the held-out part every framing and every
baseline is scored on, once, at the end.

The held-out part is the last ``--holdout`` fraction of the sequence; the validation part is the
``--validation`` fraction just before it. Together the fitting and validation parts are the
*training part*: a baseline chooses its order or season on the validation part (fitted on the
fitting part), then is refitted on the whole training part; the LSTM learns from the fitting part,
and early stopping (``--patience``) chooses its weights on the validation part. No choice reads a
held-out target. A sample whose target is in a later part may read earlier items as its input
(they are context, not answers)::

    items     0 1 2 3 4 5 6 7 8 9        --holdout 0.2 --validation 0.1, items = 10
              [  fitting  ] v [held]     fit_items = 7, train_items = 8
              [ training part ]          fitting targets 1..6, validation 7, held-out 8, 9
"""

from dataclasses import dataclass

VALIDATION = 0.1  # --validation's default: one tenth of the sequence, the held-out part's half at 0.2


@dataclass(frozen=True)
class Split:
    """A sequence of ``items`` cut into a fitting, a validation and a held-out part."""

    items: int  # length of the whole sequence
    train_items: int  # items 0..train_items-1 are the training part (fitting and validation); the rest is held out
    fraction: float  # the held-out fraction the user asked for
    validation_items: int = 0  # the last items of the training part, which choices are made on
    validation: float = 0.0  # the validation fraction the user asked for

    @property
    def held_out_items(self) -> int:
        return self.items - self.train_items

    @property
    def fit_items(self) -> int:
        """Items 0..fit_items-1 are what the LSTM learns from and a baseline is first fitted on."""
        return self.train_items - self.validation_items

    def fitting(self) -> "Split":
        """The split a model is framed on: it trains on the fitting part, and every target after
        it (validation, then held out) is scored."""
        return Split(self.items, self.fit_items, self.fraction)

    def describe(self) -> str:
        return (f"fitting part {self.fit_items}, validation part {self.validation_items} "
                f"(the {100 * self.validation:g}% before the held-out part), held-out part {self.held_out_items} "
                f"(the last {100 * self.fraction:g}%)")

    def to_dict(self) -> dict:
        """The three parts as rows ``[first, end)`` of the series, for results.json."""
        return {"fitting": [0, self.fit_items], "validation": [self.fit_items, self.train_items],
                "held_out": [self.train_items, self.items]}


def split(items: int, fraction: float, needed: int = 2, validation: float = VALIDATION) -> Split:
    """The split of ``items`` holding out the last ``fraction`` (at least one item) and validating
    on the ``validation`` fraction before it (at least one item); the fitting part must hold at
    least ``needed`` items (a window plus its target, or one pair)."""
    if not 0 < fraction < 1:
        raise ValueError(f"`holdout` must lie strictly between 0 and 1, got {fraction:g}")
    if not 0 < validation < 1 or fraction + validation >= 1:
        raise ValueError(f"`validation` must lie strictly between 0 and 1 and leave a fitting part beside "
                         f"`holdout` {fraction:g}, got {validation:g}")
    held = int(round(items * fraction))
    if held < 1:
        raise ValueError(f"the sequence has {items} items, too short for `holdout` {fraction:g}: "
                         f"that holds out no item; hold out more or give more data")
    checked = int(round(items * validation))
    if checked < 1:
        raise ValueError(f"the sequence has {items} items, too short for `validation` {validation:g}: "
                         f"that validates on no item; give a larger `validation` or more data")
    train = items - held
    fit = train - checked
    if fit < needed:
        raise ValueError(f"the sequence has {items} items: `holdout` {fraction:g} and `validation` {validation:g} "
                         f"leave {fit} to fit on, too short (it needs at least {needed}); give more data or a "
                         "smaller holdout, validation or window")
    return Split(items, train, fraction, checked, validation)
