"""Bandwidth-selection baseline for `npm run bench`: statsmodels' least-squares cross-validation.

    python select_bw.py

`KernelReg(y, x, var_type="c", reg_type="lc", bw="cv_ls")` fits the local-constant
(Nadaraya-Watson) regression and chooses the Gaussian kernel's width by minimising the
leave-one-out squared error with Nelder-Mead, starting from the normal-reference rule. Its
bandwidth is the same sigma as ours: k(u) ∝ exp(-u²/2) with u = (x - x_i) / sigma.

Requests: {"op": "info"}, {"op": "load", "data": csv}, {"op": "run"} (times one fit and returns
the bandwidth), {"op": "cv", "bw": [..]} (statsmodels' LOO loss at each given bandwidth, float64).
"""

from __future__ import annotations

from common import blas_info, clock, environment, read_csv, serve


def main() -> None:
    try:
        import numpy as np
        import statsmodels
        from statsmodels.nonparametric.kernel_regression import KernelReg
    except ImportError as exc:
        serve({"info": lambda _r: {"absent": f"statsmodels is not installed ({exc})"}})
        return
    state: dict = {}

    def fit():
        return KernelReg(state["y"], state["x"], var_type="c", reg_type="lc", bw="cv_ls")

    def info(_request):
        return {"impl": "statsmodels", "versions": {"statsmodels": statsmodels.__version__, "numpy": np.__version__},
                "blas": blas_info(), **environment()}

    def load(request):
        data = read_csv(request["data"])
        state["x"] = np.asarray(data["x"], dtype=np.float64)
        state["y"] = np.asarray(data["y"], dtype=np.float64)
        return {"n": int(state["x"].size)}

    def run(_request):
        started = clock()
        model = fit()
        seconds = clock() - started
        state["model"] = model
        return {"seconds": seconds, "bw": [abs(float(b)) for b in np.atleast_1d(model.bw)]}

    def cv(request):
        model = state.get("model") or fit()
        state["model"] = model
        func = model.est["lc"]
        return {"loss": [float(np.ravel(model.cv_loo(np.array([b]), func))[0]) for b in request["bw"]]}

    serve({"info": info, "load": load, "run": run, "cv": cv})


if __name__ == "__main__":
    main()
