"""One CLI: every option of every command has help text that states its default, lists are spelled
the same way everywhere, ``--threads`` wherever torch runs, and long experiments default to quick."""

import argparse

import pytest

from symcorr.cli import build_parser, main
from symcorr.cli.options import float_values

#: commands that run torch (and therefore take --threads)
TORCH_COMMANDS = {"derive", "check", "montecarlo", "reproduce", "fashion-mnist"}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_option_has_help_that_states_its_default():
    problems = []
    for name, parser in subcommands().items():
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or "-h" in action.option_strings:
                continue
            if not action.help:
                problems.append(f"{name} {action.option_strings[0]}: no help text")
                continue
            text = formatter._get_help_string(action)
            stated = "default" in text or isinstance(action, (argparse._StoreTrueAction, argparse._StoreConstAction))
            if not stated:
                problems.append(f"{name} {action.option_strings[0]}: the help does not state the default")
    assert problems == []


def test_threads_wherever_torch_runs():
    commands = subcommands()
    assert TORCH_COMMANDS <= set(commands)
    for name in TORCH_COMMANDS:
        assert any("--threads" in a.option_strings for a in commands[name]._actions), name


def test_lists_are_space_separated_in_every_command():
    for name, parser in subcommands().items():
        for action in parser._actions:
            if action.dest in ("orders", "mus", "ks", "widths"):
                assert action.nargs == "+", f"{name} --{action.dest}"


def test_help_of_every_command_prints(capsys):
    for name in subcommands():
        assert main([name, "--help"]) == 0
        assert "default" in capsys.readouterr().out or name == "validate"


def test_fashion_mnist_defaults_to_the_quick_grid():
    args = build_parser().parse_args(["fashion-mnist"])
    assert not getattr(args, "full", False)
    helptext = subcommands()["fashion-mnist"].format_help()
    assert "quick" in helptext and "default" in helptext


@pytest.mark.parametrize("text, values", [("0.05", (0.05,)), ("0:0.2:0.1", (0.0, 0.1, 0.2)),
                                          ("0:0.2:0.01", tuple(round(0.01 * i, 10) for i in range(21)))])
def test_float_values(text, values):
    assert float_values(text) == values


@pytest.mark.parametrize("text", ["a", "0:1", "0:1:0", "0:1:-1", "1:2:x"])
def test_bad_float_values(text):
    with pytest.raises(argparse.ArgumentTypeError):
        float_values(text)
