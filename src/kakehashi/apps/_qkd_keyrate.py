"""Secret-key rate of a fibre QKD link: decoy-state BB84, asymptotic (infinitely many decoys).

The model is the one of Lo, Ma & Chen, "Decoy State Quantum Key Distribution",
Phys. Rev. Lett. 94, 230504 (2005), with the GLLP key-rate bound
(Gottesman, Lo, Lütkenhaus & Preskill, Quantum Inf. Comput. 4, 325 (2004)):

    R = q { −Q_μ f(E_μ) H2(E_μ) + Q_1 [1 − H2(e_1)] }        (secret bits per pulse)

    η       = η_Bob · 10^(−α L / 10)                          (fibre and detector)
    Q_μ     = Y0 + 1 − exp(−η μ)                              (gain of the signal)
    E_μ Q_μ = e0 Y0 + e_d (1 − exp(−η μ))                     (its error rate)
    Y_1     = Y0 + η − Y0 η                                   (single-photon yield)
    Q_1     = Y_1 μ exp(−μ)
    e_1     = (e0 Y0 + e_d η) / Y_1                           (single-photon error rate)

with e0 = 1/2 (a dark count is a coin toss) and q = 1/2 (BB84 sifting). With infinitely many
decoy states Y_1 and e_1 are known exactly, so this is the best any decoy protocol reaches.
Multiplying by the pulse (repetition) rate gives bits per second.

The default parameters are those Lo, Ma & Chen take from the GYS experiment (Gobby, Yuan &
Shields, Appl. Phys. Lett. 84, 3762 (2004)): α = 0.21 dB/km at 1550 nm, e_d = 3.3 %,
Y0 = 1.7·10⁻⁶ per pulse, η_Bob = 4.5 %; error-correction inefficiency f(E) = 1.22
(the Cascade figure Lo, Ma & Chen use). The pulse rate is not part of the per-pulse model;
its default is 1 GHz, a clock decoy BB84 has run at since "Gigahertz decoy quantum key
distribution with 1 Mbit/s secure key rate", Opt. Express 16, 18790 (2008) — set it to your
system's.

Example:
    >>> p = DecoyBB84()
    >>> round(p.max_distance_km())
    142
    >>> p.key_rate_bps(200.0)
    0.0
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar

__all__ = ["DecoyBB84", "binary_entropy"]


def binary_entropy(x: np.ndarray | float) -> np.ndarray:
    """H2(x) = −x log2 x − (1 − x) log2(1 − x), with H2(0) = H2(1) = 0.

    Example:
        >>> float(binary_entropy(0.5))
        1.0
    """
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -x * np.log2(x) - (1 - x) * np.log2(1 - x)
    return np.nan_to_num(h, nan=0.0)


@dataclasses.dataclass(frozen=True)
class DecoyBB84:
    """Parameters of a decoy-state BB84 link (defaults: GYS, as used by Lo, Ma & Chen 2005).

    Attributes:
        loss_db_per_km: fibre attenuation α (dB/km).
        detector_efficiency: η_Bob, Bob's detection efficiency including his optics.
        dark_count_yield: Y0, the probability of a detection with no photon, per pulse.
        misalignment: e_d, the probability a photon hits the wrong detector.
        ec_inefficiency: f(E) ≥ 1, error correction's cost over the Shannon limit.
        sifting: q, the fraction of pulses kept after basis sifting (1/2 for BB84).
        mean_photon_number: μ of the signal state; ``None`` takes the rate-maximising μ at
            each length.
        repetition_rate_hz: pulses per second, to turn bits per pulse into bits per second.
    """

    loss_db_per_km: float = 0.21
    detector_efficiency: float = 0.045
    dark_count_yield: float = 1.7e-6
    misalignment: float = 0.033
    ec_inefficiency: float = 1.22
    sifting: float = 0.5
    mean_photon_number: float | None = None
    repetition_rate_hz: float = 1e9

    def __post_init__(self) -> None:
        from kakehashi.apps.base import AppDataError

        checks = {
            "loss_db_per_km": self.loss_db_per_km >= 0,
            "detector_efficiency": 0 < self.detector_efficiency <= 1,
            "dark_count_yield": 0 <= self.dark_count_yield < 1,
            "misalignment": 0 <= self.misalignment < 0.5,
            "ec_inefficiency": self.ec_inefficiency >= 1,
            "sifting": 0 < self.sifting <= 1,
            "repetition_rate_hz": self.repetition_rate_hz > 0,
        }
        if self.mean_photon_number is not None:
            checks["mean_photon_number"] = self.mean_photon_number > 0
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and ok):
                raise AppDataError(
                    f"QKD physics parameter {name}={value!r} is out of range (see "
                    "docs/apps/qkd-network.md for the meaning and the default of each)"
                )

    # ------------------------------------------------------------------ per pulse
    def transmittance(self, length_km: float, loss_db_per_km: float | None = None) -> float:
        """η: the probability a photon sent is detected (fibre loss times η_Bob)."""
        alpha = self.loss_db_per_km if loss_db_per_km is None else loss_db_per_km
        return self.detector_efficiency * 10 ** (-alpha * length_km / 10)

    def rate_per_pulse_at(self, eta: float, mu: float) -> float:
        """Lo–Ma–Chen's bound R(η, μ) in secret bits per pulse (negative: no key)."""
        y0, ed, e0 = self.dark_count_yield, self.misalignment, 0.5
        detected = 1 - math.exp(-eta * mu)
        q_mu = y0 + detected
        e_mu = (e0 * y0 + ed * detected) / q_mu
        y1 = y0 + eta - y0 * eta
        q1 = y1 * mu * math.exp(-mu)
        e1 = (e0 * y0 + ed * eta) / y1
        leak = q_mu * self.ec_inefficiency * float(binary_entropy(e_mu))
        return self.sifting * (q1 * (1 - float(binary_entropy(e1))) - leak)

    def best_mu(self, length_km: float, loss_db_per_km: float | None = None) -> float:
        """The signal intensity μ that maximises the key rate at ``length_km``."""
        if self.mean_photon_number is not None:
            return float(self.mean_photon_number)
        eta = self.transmittance(length_km, loss_db_per_km)
        # R(μ) is unimodal on (0, 1.5]: bounded Brent finds its peak
        res = minimize_scalar(
            lambda mu: -self.rate_per_pulse_at(eta, mu),
            bounds=(1e-4, 1.5),
            method="bounded",
            options={"xatol": 1e-6},
        )
        return float(res.x)

    def rate_per_pulse(self, length_km: float, loss_db_per_km: float | None = None) -> float:
        """Secret bits per pulse over ``length_km`` of fibre; 0 beyond reach."""
        eta = self.transmittance(length_km, loss_db_per_km)
        mu = self.best_mu(length_km, loss_db_per_km)
        return max(self.rate_per_pulse_at(eta, mu), 0.0)

    # ------------------------------------------------------------------ per second
    def key_rate_bps(self, length_km: float, loss_db_per_km: float | None = None) -> float:
        """Secret-key rate in bits per second of one transmitter/receiver pair.

        Example:
            >>> 1e5 < DecoyBB84().key_rate_bps(50.0) < 1e6
            True
        """
        return self.rate_per_pulse(length_km, loss_db_per_km) * self.repetition_rate_hz

    def max_distance_km(self, loss_db_per_km: float | None = None) -> float:
        """The longest fibre over which any key is made (the rate's zero crossing)."""

        def rate(length: float) -> float:
            eta = self.transmittance(length, loss_db_per_km)
            return self.rate_per_pulse_at(eta, self.best_mu(length, loss_db_per_km))

        if rate(0.0) <= 0:
            return 0.0
        hi = 10.0
        while rate(hi) > 0:
            hi *= 2
            if hi > 1e5:
                return math.inf  # no dark counts and no loss: reach without end
        return float(brentq(rate, hi / 2 if hi > 10 else 0.0, hi, xtol=1e-6))
