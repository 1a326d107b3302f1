"""Write diabetes.csv from scikit-learn's bundled diabetes data (no download: the file ships with sklearn).

442 patients, ten baseline variables (age, sex, BMI, blood pressure, six blood serum
measurements) and a quantitative measure of disease progression one year later.
Values are in their original units (``scaled=False``).
"""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_diabetes

NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu"}


def main() -> None:
    frame = load_diabetes(as_frame=True, scaled=False).frame.rename(columns=NAMES)
    frame["sex"] = frame["sex"].map({1.0: "group_1", 2.0: "group_2"})
    out = Path(__file__).with_name("diabetes.csv")
    frame.to_csv(out, index=False)
    print(f"wrote {out} ({len(frame)} rows)")


if __name__ == "__main__":
    main()
