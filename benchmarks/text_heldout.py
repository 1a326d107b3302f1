"""Does the support-tickets model generalise beyond its generator? Accuracy on tickets it never saw.

    .venv/bin/python benchmarks/text_heldout.py [--rows 1000]

Trains the DP model and the non-private baseline exactly as
``examples/support-tickets/audit.yaml`` configures them (canaries left out),
then scores both on three sets: the run's own held-out split; 1,000 tickets
from the example's generator with another seed (new people, same phrasings);
and tickets written with phrasings the generator never uses (below), filled
with the same kinds of personal data. Run ``make demo-text`` first (it writes
the data and links the model).
"""

from __future__ import annotations

import argparse
import random
import sys

import numpy as np
from _common import REPO, machine

sys.path.insert(0, str(REPO / "examples" / "support-tickets"))

from generate import generate

from auditor.config import load_config
from auditor.data import load_data
from auditor.evidence import TaskInfo
from auditor.hf.checkpoint import load_tokenizer
from auditor.tasks import get_task
from auditor.tasks.text_classification import encode
from auditor.train.metrics import model_outputs
from auditor.train.stage import train_models

PARAPHRASES = {
    "billing": [
        "Hi {name}, here. Your system took the money for my purchase two times, can I get one payment back?",
        "There is a mistake on my bill: I paid 49.99 but you took 94.99 from {iban}.",
        "Why do I see a charge from your shop on my credit card statement that I never authorised?",
        "I want my money back for the double payment, my phone is {phone}.",
    ],
    "delivery": [
        "Where is my stuff? Ordered ten days ago and the courier still has not shown up at {address}.",
        "The delivery driver threw the box over the fence and it got wet in the rain.",
        "My package is stuck in transit according to the carrier, please chase it.",
        "Nobody delivered anything yet, the shipping estimate passed last Friday. Call {phone}.",
    ],
    "technical": [
        "Your mobile application freezes on the login screen since yesterday's update.",
        "When I press pay, the page shows a blank white screen and a bug report pops up.",
        "The bluetooth earbuds keep disconnecting from my laptop every few minutes.",
        "Error code 0x80070005 appears when installing the program you sold me.",
    ],
    "account": [
        "I can't get into my profile, the password reset link has expired. Use {email}.",
        "Change my registered email to {email} and my login name to {name}.",
        "Close my membership and erase my personal details under GDPR please.",
        "My sign-in keeps failing and now the account is blocked.",
    ],
    "returns": [
        "The dress doesn't fit, how do I send it back for a refund?",
        "I'd like to swap the trainers for a bigger size, they pinch.",
        "Could a courier pick up the broken fridge from {address} so I can return it?",
        "I posted the parcel back to your warehouse, when will the return be processed?",
    ],
}


def paraphrased(rows: int, seed: int) -> list[dict[str, str]]:
    from faker import Faker

    fake, rng = Faker("en_GB"), random.Random(seed)
    fake.seed_instance(seed)
    out = []
    for _ in range(rows):
        category = rng.choice(sorted(PARAPHRASES))
        text = rng.choice(PARAPHRASES[category]).format(
            name=fake.name(),
            iban=fake.iban(),
            phone=fake.phone_number(),
            email=fake.email(),
            address=fake.address().replace("\n", ", "),
        )
        out.append({"text": f"{text} Thanks, {fake.first_name()}", "category": category})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()
    config = load_config(REPO / "examples" / "support-tickets" / "audit.yaml")
    config = config.model_copy(update={"audit": config.audit.model_copy(update={"enabled": False})})
    task = get_task("text-classification")
    prepared = task.prepare(load_data(config), None, config.train, config.seed)
    info = TaskInfo(name=task.name, family="classification", description="", source="config", reason="benchmark")
    section, artifacts = train_models(config, task, info, prepared, config.seed)
    tokenizer = load_tokenizer(prepared.text.checkpoint)
    sets = {
        "run's held-out split": None,
        f"generator, new seed ({args.rows})": generate(args.rows, seed=99),
        f"unseen phrasings ({args.rows // 2})": paraphrased(args.rows // 2, seed=7),
    }
    print(f"# {machine()}")
    print(f"# epsilon {section.privacy.epsilon if section.privacy else None}")
    print("| test set | DP model | non-private |")
    print("|---|---:|---:|")
    for name, rows in sets.items():
        if rows is None:
            x, y = prepared.x_test, prepared.y_test.numpy()
        else:
            ids = tokenizer([r["text"] for r in rows], truncation=True, max_length=config.train.max_length)["input_ids"]
            x = encode([list(s) for s in ids], prepared.text.length, prepared.text.pad_id)
            y = np.searchsorted(np.array(prepared.classes), np.array([r["category"] for r in rows]))
        scores = [
            float((model_outputs(m, x).argmax(axis=1) == y).mean()) for m in (artifacts.model, artifacts.baseline)
        ]
        print(f"| {name} | {scores[0]:.3f} | {scores[1]:.3f} |")


if __name__ == "__main__":
    main()
