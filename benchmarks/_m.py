import sys, collections
sys.path.insert(0, '.')
from freetext_corpus import corpus
from pii_freetext import ours
if __name__ == "__main__":
    docs = corpus(2000, 2027, 'test', 'fakenamegenerator')
    pred = ours([d.text for d in docs], 1)
    n = 0
    for d, p in zip(docs, pred):
        for s, e, t in d.spans:
            if t == sys.argv[1] and not any(a < e and s < b for a, b, _ in p):
                n += 1
                if n < 70: print(repr(d.text), '->', repr(d.text[s:e]), [d.text[a:b] for a, b, _ in p])
