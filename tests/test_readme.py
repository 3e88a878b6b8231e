"""The README starts with the two commands and carries the config reference the model generates."""

from __future__ import annotations

from stackconfig import reference
from tools import readme
from stackconfig.model import Section, StackConfig

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_opens_with_plan_and_test_commands():
    block = README.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make plan STACK=dev", "make test"]


def test_generated_sections_are_current():
    """The config reference, the outputs and the alerts are generated; a stale copy fails here."""
    assert readme.splice(README) == README, "run `make reference` and commit README.md"


def test_reference_documents_every_leaf_key():
    rendered = reference.render()

    def leaves(model, prefix=""):
        for name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, Section):
                yield from leaves(field.annotation, f"{prefix}{name}.")
            else:
                yield prefix + name, reference.field_docs(model).get(name)

    for key, doc in leaves(StackConfig):
        assert f"| `{key}` |" in rendered, key
        assert doc, f"{key} has no docstring"
    assert "| `langsmith_api_key` |" in rendered


def test_ci_runs_the_readme_test_command():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
