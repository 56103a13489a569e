"""``[scenarios]`` of ``encours.toml``: which scenario files, the default, the profile mapping.

```toml
[scenarios]
default = "standard"        # used when neither the sheet nor the profile chooses
dir = "my-scenarios"        # optional: your own *.toml (and templates/) overriding the shipped ones
[scenarios.profiles]        # payer profile (Clients → Profil) → scenario
A = "gentle"
D = "firm"
```
Profiles not listed keep the shipped mapping (:data:`DEFAULT_PROFILE_SCENARIOS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from encours.scenarios.loader import Scenario, ScenarioError, load_scenarios
from encours.scenarios.render import check_rendering

#: Payer profiles (A good … D high risk, :func:`encours.sheets_addin.functions.profile_for`) → scenario.
DEFAULT_PROFILE_SCENARIOS: dict[str, str] = {"A": "gentle", "B": "standard", "C": "standard", "D": "firm"}


@dataclass(frozen=True)
class ScenarioSetup:
    scenarios: dict[str, Scenario]
    default: str
    profile_scenarios: dict[str, str]


def scenario_setup(
    dirs: Sequence[Path], default: str, profiles_table: Mapping[str, Any], *, file: str = "",
    cache_dir: Path | None = None, rendering_checked: bool = False,
) -> ScenarioSetup:
    """Load and validate the scenarios a dossier uses; errors name the file and the key or step.

    ``dirs``: the shipped folder first, then the dossier's own (``[scenarios] dir``);
    ``profiles_table``: ``[scenarios.profiles]`` as written.  ``cache_dir`` keeps compiled templates;
    ``rendering_checked``: these very files already rendered with sample data (see
    :func:`encours.sync.company.scenarios_for`), so the check is not run again.
    """
    scenarios = load_scenarios(list(dirs), check=None if rendering_checked else check_rendering, cache_dir=cache_dir)
    if default not in scenarios:
        raise ScenarioError(f"{default!r} is not a scenario (known: {', '.join(sorted(scenarios))})",
                            file=file, field="[scenarios] default")
    profiles = dict(DEFAULT_PROFILE_SCENARIOS)
    for profile, name in profiles_table.items():
        if not isinstance(name, str) or name not in scenarios:
            raise ScenarioError(f"{name!r} is not a scenario (known: {', '.join(sorted(scenarios))})",
                                file=file, field=f"[scenarios.profiles] {profile}")
        profiles[str(profile)] = name
    profiles = {p: s for p, s in profiles.items() if s in scenarios}
    return ScenarioSetup(scenarios, default, profiles)
