"""Optuna's side of bench/search.ts: W processes share one RDB storage (SQLite file or PostgreSQL URL), each
runs trials whose objective only reports R intermediate values; prints one JSON line with the wall time. As on
our side, the clock starts when every worker has loaded the study (imports and connecting are not overhead).
Random sampling, as ours: the default TPE sampler's model fitting is not store overhead.
Usage: /usr/bin/python3 bench/search_optuna.py STORAGE_URL WORKERS TRIALS REPORTS"""
import json
import multiprocessing as mp
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(reports):
    def f(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        for step in range(reports):
            trial.report(x * (step + 1), step)
        return x

    return f


def work(url, name, n, reports, ready):
    study = optuna.load_study(study_name=name, storage=url, sampler=optuna.samplers.RandomSampler())
    ready.wait()
    study.optimize(objective(reports), n_trials=n)


def main():
    url, workers, trials, reports = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    name = f"bench-{workers}-{trials}-{time.time_ns()}"
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    share = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
    ready = mp.Barrier(workers + 1)
    procs = [mp.Process(target=work, args=(url, name, n, reports, ready)) for n in share]
    for p in procs:
        p.start()
    ready.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    done = len(optuna.load_study(study_name=name, storage=url).trials)
    out = {"peer": "optuna", "version": optuna.__version__, "workers": workers, "trials": done, "wall": wall}
    print(json.dumps(out))


if __name__ == "__main__":
    mp.set_start_method("fork")
    main()
