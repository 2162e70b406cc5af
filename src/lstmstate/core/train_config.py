"""How a population is trained (``TrainConfig``): epochs, batch size, shuffling, the state
policy, the loss, Adam's learning rate and clipping, and truncated BPTT's length; saved with a run."""

from dataclasses import dataclass, fields

from lstmstate.core import loss as losses
from lstmstate.core import policy as policies
from lstmstate.core.loss import Loss
from lstmstate.core.policy import StatePolicy


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved with a run (``to_dict`` writes the policy's and the loss's names)."""

    epochs: int  # passes over the data
    batch_size: int  # samples per gradient step; for carried state, the number of parallel streams
    shuffle: bool  # reshuffle sample order every epoch, independently per seed (stateless only)
    policy: StatePolicy = policies.RESET_EVERY_BATCH  # what a batch's LSTM state starts from (a name is accepted)
    loss: Loss = losses.CATEGORICAL_CROSSENTROPY  # or MEAN_SQUARED_ERROR for numbers (a name is accepted)
    learning_rate: float = 0.001  # Adam, Keras's default
    bptt: int = 1  # carried state: consecutive batches of the streams per gradient step (truncated BPTT)
    clip_norm: float | None = None  # Adam's global_clipnorm: the gradients' global norm is clipped to this

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        # Names, as run folders save them and older callers pass them, become the named objects.
        if isinstance(self.policy, str):
            object.__setattr__(self, "policy", policies.get(self.policy))
        if isinstance(self.loss, str):
            object.__setattr__(self, "loss", losses.get(self.loss))
        if not isinstance(self.policy, StatePolicy):
            raise ValueError(f"policy must be a StatePolicy or one of {', '.join(policies.POLICIES)}, "
                             f"got {self.policy!r}")
        if not isinstance(self.loss, Loss):
            raise ValueError(f"loss must be a Loss or one of {', '.join(losses.LOSSES)}, got {self.loss!r}")
        if self.shuffle and self.policy.carries_state:
            raise ValueError(f"policy {self.policy.name!r} carries state between batches, so shuffle must be off")
        if self.bptt < 1:
            raise ValueError(f"bptt must be at least 1, got {self.bptt}")
        if self.bptt > 1 and not self.policy.carries_state:
            raise ValueError(f"bptt {self.bptt} needs a policy that carries state: samples that each start from "
                             "zeros have nothing to backpropagate through between them")
        if not self.learning_rate >= 0:  # 0 is allowed: a run that must leave the weights as they are
            raise ValueError(f"learning rate must be at least 0, got {self.learning_rate}")
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ValueError(f"clip norm must be above 0, got {self.clip_norm}")

    @property
    def carries_state(self) -> bool:
        return self.policy.carries_state

    def to_dict(self) -> dict:
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        return {**data, "policy": self.policy.name, "loss": self.loss.name}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return cls(**data)
