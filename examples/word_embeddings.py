"""Word embeddings and feature embeddings in a text classifier over variable-length sentences.

A small synthetic corpus (made here, no download): sentences of 3 to 9 words about one of three
topics. Topic words are made of a stem and a suffix, and each topic has its own suffixes
("-ing", "-er" for the first...), so a word never seen in training still tells its topic
through its suffix. Three models, each an `nn.Module` whose forward loops over the words of a
sentence (a dynamic computation graph: the loop runs as many times as the sentence is long):

- bag of words: h = tanh(mean_i E_word[w_i]), logits = W h + c
- summed feature embeddings: each word is E_word[w_i] + E_suffix[s_i]
- concatenated feature embeddings: each word is [E_word[w_i]; E_suffix[s_i]]

Words not in the training vocabulary map to one UNK row. Prints each model's test accuracy on
sentences with known words and on sentences with unseen words, and part of the generated
backward (the loop over words, and its reverse in the pullback).

Run: python examples/word_embeddings.py
"""

import argparse
import os

import numpy as np

import srcad
from srcad import nn, optim

QUICK = os.environ.get("SRCAD_EXAMPLE_QUICK") == "1"
TOPICS = {"sports": ("ing", "er"), "food": ("ous", "ful"), "weather": ("ion", "ity")}
FILLERS = ["the", "a", "and", "very", "of", "we", "saw", "it", "was", "today"]


def make_corpus(rng, n_sentences, stems):
    """Sentences (lists of words) and their topic labels."""
    sentences, labels = [], []
    topics = list(TOPICS)
    for _ in range(n_sentences):
        label = int(rng.integers(len(topics)))
        suffixes = TOPICS[topics[label]]
        length = int(rng.integers(3, 10))
        n_topic = int(rng.integers(1, min(3, length) + 1))
        words = [str(rng.choice(FILLERS)) for _ in range(length - n_topic)]
        for _ in range(n_topic):
            word = str(rng.choice(stems[label])) + str(rng.choice(suffixes))
            words.insert(int(rng.integers(len(words) + 1)), word)
        sentences.append(words)
        labels.append(label)
    return sentences, labels


def random_stems(rng, n):
    letters = np.array(list("bcdfghklmnprstvz"))
    vowels = np.array(list("aeiou"))
    return ["".join(rng.choice(letters, 1)) + "".join(rng.choice(vowels, 1))
            + "".join(rng.choice(letters, 1)) for _ in range(n)]


class Vocabulary:
    """Word ids, with id 0 for words not seen in training."""

    def __init__(self, words):
        self.ids = {word: i + 1 for i, word in enumerate(sorted(set(words)))}

    def __len__(self):
        return len(self.ids) + 1

    def encode(self, words):
        return np.array([self.ids.get(word, 0) for word in words])


def suffix(word):
    return word[-3:] if len(word) > 4 else "<short>"


class BagOfWords(nn.Module):
    def __init__(self, n_words, n_suffixes, dim, n_classes):
        super().__init__()
        self.words = nn.Embedding(n_words, dim)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, words, suffixes):
        h = np.zeros(self.out.in_features)
        for w in words:
            h = h + self.words(w)
        return self.out(np.tanh(h / len(words)))


class SummedFeatures(nn.Module):
    def __init__(self, n_words, n_suffixes, dim, n_classes):
        super().__init__()
        self.words = nn.Embedding(n_words, dim)
        self.suffixes = nn.Embedding(n_suffixes, dim)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, words, suffixes):
        h = np.zeros(self.out.in_features)
        for w, s in zip(words, suffixes):
            h = h + self.words(w) + self.suffixes(s)
        return self.out(np.tanh(h / len(words)))


class ConcatenatedFeatures(nn.Module):
    def __init__(self, n_words, n_suffixes, dim, n_classes):
        super().__init__()
        self.words = nn.Embedding(n_words, dim)
        self.suffixes = nn.Embedding(n_suffixes, dim // 2)
        self.out = nn.Linear(dim + dim // 2, n_classes)

    def forward(self, words, suffixes):
        h = np.zeros(self.out.in_features)
        for w, s in zip(words, suffixes):
            h = h + np.concatenate([self.words(w), self.suffixes(s)])
        return self.out(np.tanh(h / len(words)))


criterion = nn.CrossEntropyLoss()


def loss_fn(model, sentences, suffixes, labels):
    """Mean cross-entropy over a batch of sentences of different lengths."""
    total = 0.0
    for words, sufs, label in zip(sentences, suffixes, labels):
        total = total + criterion(model(words, sufs), label)
    return total / len(sentences)


def accuracy(model, sentences, suffixes, labels):
    predictions = [int(np.argmax(model(w, s))) for w, s in zip(sentences, suffixes)]
    return float(np.mean(np.array(predictions) == np.array(labels)))


def encode(corpus, vocabulary, suffix_vocabulary):
    sentences, labels = corpus
    return ([vocabulary.encode(words) for words in sentences],
            [suffix_vocabulary.encode([suffix(w) for w in words]) for words in sentences],
            labels)


def train(model, data, epochs, rng, batch_size=16):
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    words, sufs, labels = data
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            nn.backward(loss_fn, model, [words[i] for i in batch], [sufs[i] for i in batch],
                        [labels[i] for i in batch])
            optimizer.step()


def main():
    rng = np.random.default_rng(0)
    stems = [random_stems(rng, 12) for _ in TOPICS]
    known = [s[:8] for s in stems]                       # training uses 8 stems per topic
    unseen = [s[8:] for s in stems]                      # the test also uses the other 4
    train_corpus = make_corpus(rng, 240 if QUICK else 600, known)
    test_known = make_corpus(rng, 150, known)
    test_unseen = make_corpus(rng, 150, unseen)
    vocabulary = Vocabulary(w for words in train_corpus[0] for w in words)
    suffixes = Vocabulary(suffix(w) for words in train_corpus[0] for w in words)
    print(f"{len(train_corpus[0])} training sentences, {len(vocabulary)} words (with UNK), "
          f"{len(suffixes)} suffixes; e.g. {' '.join(train_corpus[0][0])!r} -> "
          f"{list(TOPICS)[train_corpus[1][0]]}")
    data = encode(train_corpus, vocabulary, suffixes)
    epochs = 3 if QUICK else 8
    for cls in (BagOfWords, SummedFeatures, ConcatenatedFeatures):
        srcad.manual_seed(0)
        model = cls(len(vocabulary), len(suffixes), 16, len(TOPICS))
        train(model, data, epochs, np.random.default_rng(1))
        a_known = accuracy(model, *encode(test_known, vocabulary, suffixes))
        a_unseen = accuracy(model, *encode(test_unseen, vocabulary, suffixes))
        print(f"{cls.__name__:21} test accuracy: known words {a_known:.3f}, "
              f"unseen words {a_unseen:.3f}")

    print("\nThe generated forward and backward of ConcatenatedFeatures: the loop over words "
          "records what it must,\nthe pullback replays it in reverse:\n")
    text = srcad.source(srcad.grad(loss_fn, wrt="model"), model, *[d[:2] for d in data])
    start = text.index("def vjp_ConcatenatedFeatures_forward")
    end = text.find("\n\n", start)                     # (-1: the last function)
    print(text[start:end if end >= 0 else None].rstrip())


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()
