"""共性问题 on the labelled set (`tests/data/common_issues_labelled.json`, issue 33): ten matters
each told by eight callers in their own words, among 101 complaints about other things. Prints
each topic with its purity (the share of its cases from its main matter or subject) and each
matter's recall (the share of its cases in its best topic).

    python bench/common_issues_quality.py [--max-topics 50]

No database: the keywords the worker would store, then the clustering the dashboard runs.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from services import keywords
from services.stats.common_issues import Item, cluster

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "common_issues_labelled.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-topics", type=int, default=50)
    args = parser.parse_args()
    data = json.loads(LABELLED.read_text())
    cases = [(m["label"], c) for m in data["matters"] for c in m["cases"]]
    cases += [(f"(other: {c['subject']})", c) for c in data["unrelated"]]
    items, label = [], {}
    for i, (name, case) in enumerate(cases, 1):
        words = keywords.of_case(case["title"], case["description"])
        items.append(Item(i, f"L{i}", case["title"], None, frozenset(words)))
        label[i] = name
    topics = cluster(items, max_topics=args.max_topics)
    worst = 1.0
    for topic in topics:
        counts = Counter(label[item.id] for item in topic.items)
        main_label, n = counts.most_common(1)[0]
        purity = n / len(topic.items)
        worst = min(worst, purity)
        print(f"{topic.label:>14}: {len(topic.items):2} cases, purity {purity:.2f} ({main_label})")
    recalls = []
    for matter in data["matters"]:
        best = max(
            (sum(label[item.id] == matter["label"] for item in t.items) for t in topics),
            default=0,
        )
        recalls.append(best)
        print(f"{matter['label']}: {best} of {len(matter['cases'])} in one topic")
    print(
        json.dumps(
            {
                "matters_with_7_of_8": sum(r >= 7 for r in recalls),
                "matters": len(recalls),
                "lowest_recall": min(recalls),
                "lowest_purity": round(worst, 2),
                "topics": len(topics),
            }
        )
    )


if __name__ == "__main__":
    main()
