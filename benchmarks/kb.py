"""Knowledge-base retrieval speed (regulation 1.3): load time and p50/p99 suggest latency.

python -m benchmarks.kb [--rounds 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as a script, only this folder is on sys.path: the project root goes first (also before
# benchmarks/classifier.py, which would shadow the `classifier` package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.policy.kb import KnowledgeBase  # noqa: E402

QUERIES = [
    "При установке мастер пишет: удалите настройку PHP mbstring.func_overload",
    "Сайт очень медленно открывается, страницы грузятся по 10 секунд",
    "Ошибка соединения с сервером обновлений",
    "Table 'b_user' is marked as crashed and should be repaired",
    "Не приходят письма с сайта о новых заказах, smtp не настроен",
    "Забыл пароль администратора",
    "How do I enable two-factor authentication?",
    "Хочу заказать пиццу с доставкой на дом",
    "Добрый день! После обновления модулей на сайте белый экран, в логах ничего нет, "
    "при этом админка открывается. Версия 23.300.0, редакция Бизнес. Что делать?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    kb = KnowledgeBase.load()
    load_ms = (time.perf_counter() - t0) * 1000
    kb.suggest("warm-up")

    samples: list[float] = []
    for _ in range(args.rounds):
        for q in QUERIES:
            t = time.perf_counter()
            kb.suggest(q)
            samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"entries: {len(kb)}")
    print(f"load: {load_ms:.1f} ms")
    print(f"suggest: n={len(samples)} p50={p50:.3f} ms p99={p99:.3f} ms")


if __name__ == "__main__":
    main()
