"""Optional steps hand the report a section through ``sections/<name>.json``."""

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from kpilab.errors import ParameterError
from kpilab.outputs import save_figure, save_section, save_table


def test_section_file_names_saved_figures_and_tables(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    save_figure(tmp_path, "effect", fig)
    save_table(tmp_path, "att", pd.DataFrame({"estimator": ["a"], "estimate": [1.5]}))
    path = save_section(tmp_path, "08_training_effect", title="Training effect", summary_md="Training **raised** it.",
                        figures=[("effect", "Effect by week")], tables=[("att", "Estimates", {"estimate": "number"})])
    spec = json.loads(path.read_text())
    assert path == tmp_path / "sections" / "08_training_effect.json"
    assert spec == {"title": "Training effect", "summary_md": "Training **raised** it.",
                    "figures": [{"file": "figures/effect.png", "caption": "Effect by week"}],
                    "tables": [{"file": "tables/att.csv", "caption": "Estimates", "formats": {"estimate": "number"}}]}


def test_section_naming_a_file_not_saved_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="figures/nothing.png"):
        save_section(tmp_path, "07_x", title="X", summary_md="", figures=[("nothing", "?")])
    assert not (tmp_path / "sections").exists()


def test_report_renders_the_section(tmp_path):
    from kpilab.report.collect import RunData  # noqa: F401 - the report package is importable
    from kpilab.report.extra_sections import generic_sections

    save_table(tmp_path, "att", pd.DataFrame({"estimator": ["callaway_santanna"], "estimate": [2.5361]}))
    save_section(tmp_path, "08_training_effect", title="Training effect", summary_md="Training raised it.",
                 tables=[("att", "Estimates", {"estimate": "number"})])

    class _Data:  # the generic renderer only needs the run folder
        run_dir = tmp_path
        framework = None

    sections = generic_sections(_Data())
    assert [s.title for s in sections] == ["Training effect"]
