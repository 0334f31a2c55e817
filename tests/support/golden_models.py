"""A model whose generated gradient tests/test_golden.py pins (tests/golden/*.txt): its
`forward` has a setting (`input.ndim`) that specializing decides, and its loss reads the sizes
of its input. Editing this file (or the `nn` layers and losses it uses) moves line numbers,
which appear in the generated comments: regenerate with SRCAD_UPDATE_GOLDEN=1."""

from srcad import nn


class Classifier(nn.Module):
    """Linear, ReLU, Linear; an unbatched input (one sample) gets a batch axis."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.out = nn.Linear(4, 2)

    def forward(self, input):
        if input.ndim == 1:
            input = input[None]
        return self.out(self.act(self.hidden(input)))


LOSS = nn.CrossEntropyLoss()


def classifier_loss(model, x, target):
    return LOSS(model(x), target)
