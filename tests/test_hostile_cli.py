"""Hostile input to the command line: every mistake is one line `relunet: error: ...`, exit status 2, and
nothing written. Most cases run in-process through relunet.cli.main (fast); a subprocess only where the
process itself matters (optional packages missing, a full disk on standard output)."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import relunet
from relunet.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"
#: what only the extras install (and jax, anywidget from the environment): --help must need none of them
OPTIONAL = ["scipy", "sklearn", "torch", "onnx", "onnxruntime", "dask", "distributed", "jax", "anywidget",
            "websockets", "pandas", "httpx", "playwright", "hypothesis", "pytest", "ipykernel", "ipywidgets"]


def cli(capsys, *args):
    """(exit status, stdout, stderr) of `relunet ARGS` run in this process."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as e:  # argparse's own usage errors
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *args):
    """Run a command that must fail: returns its one error line (after checking status 2 and one line)."""
    status, out, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert status == 2, (status, out, err)
    assert len(lines) == 1 and lines[0].startswith("relunet: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """tmp_path as the current folder, with a small data file and a trained model in it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("x1,x2,y\n0,0,0\n1,0,1\n0,1,1\n1,1,0\n0.5,0.2,0\n")
    model = relunet.MLP([2, 3, 2], seed=0)
    model.box = [-1.0, 1.0, -1.0, 1.0]
    relunet.save(model, tmp_path / "m.npz")
    reg = relunet.MLP([1, 4, 1], task="regression", seed=0)
    reg.box = [0.0, 1.0]
    relunet.save(reg, tmp_path / "r.npz")
    return tmp_path


def snapshot(folder):
    """{name: (bytes, mode)} of every file in `folder` (hidden temporary files included)."""
    return {p.name: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir() if p.is_file()}


# ---------------------------------------------------------------------------------------------- start-up
BLOCKER = textwrap.dedent("""
    import sys
    BLOCKED = set(%r)

    class _Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None

    sys.meta_path.insert(0, _Blocker())
""")


def test_help_of_every_command_needs_no_optional_package(tmp_path):
    # a sitecustomize on PYTHONPATH makes every optional package unimportable, as on a core install
    (tmp_path / "sitecustomize.py").write_text(BLOCKER % (OPTIONAL,))
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{SRC}", MPLBACKEND="Agg")
    script = ("import sys, contextlib, io\n"
              "from relunet.cli import main, COMMANDS\n"
              "for argv in [['--help']] + [[c, '--help'] for c in COMMANDS]:\n"
              "    buf = io.StringIO()\n"
              "    with contextlib.redirect_stdout(buf):\n"
              "        try:\n"
              "            main(argv)\n"
              "        except SystemExit as e:\n"
              "            assert e.code == 0, (argv, e.code)\n"
              "    assert 'usage: relunet' in buf.getvalue(), argv\n"
              "assert 'numba' not in sys.modules, 'numba imported at --help time'\n"  # core, but imported lazily
              "import scipy\n")  # the blocker works: this must fail
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert "No module named 'scipy' (blocked by the test)" in r.stderr, r.stderr  # every --help passed first
    assert r.stderr.count("Traceback") == 1
    # and the real entry point, in its own process
    r = subprocess.run([sys.executable, "-m", "relunet", "bench", "--help"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "usage: relunet bench" in r.stdout, r.stderr


def test_a_missing_extra_is_one_line_naming_it(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER % (OPTIONAL,))
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{SRC}", MPLBACKEND="Agg")
    relunet.save(relunet.MLP([2, 3, 2]), tmp_path / "m.npz")
    for args, extra in ((["bench", "--quick"], "bench"),
                        (["export", "--model", "m.npz", "--format", "onnx", "--out", "m.onnx"], "onnx"),
                        (["export", "--model", "m.npz", "--format", "torch", "--out", "m.pt"], "torch")):
        r = subprocess.run([sys.executable, "-m", "relunet", *args], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, (args, r.stderr)
        assert f'pip install "relunet[{extra}]"' in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------- output paths
OUTPUT_CASES = {
    "train out is the data": (["train", "--data", "data.csv", "--epochs", "1", "--out", "data.csv"],
                              "is the input --data"),
    "train out is the data via ./": (["train", "--data", "data.csv", "--epochs", "1", "--out", "./sub/../data.csv"],
                                     "is the input --data"),
    "train out is the data via a symlink": (["train", "--data", "data.csv", "--epochs", "1", "--out", "link.csv"],
                                            "is the input --data"),
    "train out is the data via a hard link": (["train", "--data", "data.csv", "--epochs", "1", "--out", "hard.csv"],
                                              "is the input --data"),
    "train out is the init model": (["train", "--data", "data.csv", "--init", "m.npz", "--hidden", "3",
                                     "--epochs", "1", "--out", "m.npz"], "is the input --init"),
    "train out and plot are one file": (["train", "--data", "data.csv", "--epochs", "1", "--out", "o.png",
                                         "--plot", "o.png"], "is also --out"),
    "train plot in a format matplotlib lacks": (["train", "--data", "data.csv", "--epochs", "1", "--out", "o.npz",
                                                 "--plot", "fig.xyz"], "not .xyz"),
    "train plot the data cannot have": (["train", "--data", "three.csv", "--epochs", "1", "--out", "o.npz",
                                         "--plot", "fig.png"], "relunet draws 2-input classifiers"),
    "train out is a device node": (["train", "--data", "data.csv", "--epochs", "1", "--out", "/dev/null"],
                                   "not a regular file"),
    "train out is a FIFO": (["train", "--data", "data.csv", "--epochs", "1", "--out", "fifo"], "not a regular file"),
    "train out is empty": (["train", "--data", "data.csv", "--epochs", "1", "--out", ""], "empty path"),
    "train out under a file": (["train", "--data", "data.csv", "--epochs", "1", "--out", "data.csv/o.npz"],
                               "data.csv is a file, not a folder"),
    "regions json is the model": (["regions", "--model", "m.npz", "--json", "m.npz"], "is the input --model"),
    "regions plot is the json": (["regions", "--model", "m.npz", "--json", "a.json", "--plot", "a.json"],
                                 "is also --json"),
    "regions bad plot format": (["regions", "--model", "m.npz", "--json", "a.json", "--plot", "a.doc"], "not .doc"),
    "regions of a 1-input model": (["regions", "--model", "r.npz", "--json", "a.json"], "needs a model with two inputs"),
    "knots json is the model": (["knots", "--model", "r.npz", "--json", "r.npz"], "is the input --model"),
    "approx json is the plot": (["approx", "--pieces", "2", "--json", "a.png", "--plot", "a.png"], "is also --json"),
    "export out is the model": (["export", "--model", "m.npz", "--format", "onnx", "--out", "m.npz"],
                                "is the input --model"),
    "plot out is the model": (["plot", "--model", "m.npz", "--out", "m.npz"], "is the input --model"),
    "plot a model relunet cannot draw": (["plot", "--model", "wide.npz", "--out", "w.png"],
                                         "relunet draws 2-input classifiers"),
    "plot out is the data": (["plot", "--model", "m.npz", "--data", "data.csv", "--out", "data.csv"],
                             "is the input --data"),
    "demo out is empty": (["demo", "--out", ""], "empty path"),
    "demo out under a file": (["demo", "--out", "data.csv/demo"], "data.csv is a file, not a folder"),
    "demo out is a file": (["demo", "--out", "data.csv"], "exists and is not a folder"),
    "bench json is a folder": (["bench", "--json", "sub/"], "it is a folder"),
}


@pytest.mark.parametrize("case", list(OUTPUT_CASES))
def test_every_output_is_checked_before_any_work(capsys, work, case):
    args, message = OUTPUT_CASES[case]
    (work / "sub").mkdir()
    (work / "three.csv").write_text("1,2,3,0\n2,3,4,1\n")
    relunet.save(relunet.MLP([3, 2, 2]), work / "wide.npz")
    os.symlink("data.csv", work / "link.csv")
    os.link(work / "data.csv", work / "hard.csv")
    os.mkfifo(work / "fifo")
    before = snapshot(work)
    line = refused(capsys, *args)
    assert message in line, line
    assert snapshot(work) == before  # nothing written, not even a temporary file
    assert sorted(p.name for p in work.iterdir()) == sorted(list(before) + ["fifo", "sub"])


def test_files_follow_the_umask_and_keep_a_replaced_files_mode(capsys, work):
    old = os.umask(0o022)
    try:
        assert cli(capsys, "train", "--data", "data.csv", "--hidden", "2", "--epochs", "1", "--out", "o.npz",
                   "--quiet")[0] == 0
        assert stat.S_IMODE(os.stat(work / "o.npz").st_mode) == 0o644
        os.chmod(work / "o.npz", 0o640)
        assert cli(capsys, "train", "--data", "data.csv", "--hidden", "2", "--epochs", "1", "--out", "o.npz",
                   "--quiet")[0] == 0
        assert stat.S_IMODE(os.stat(work / "o.npz").st_mode) == 0o640
        os.umask(0o027)
        relunet.save(relunet.MLP([2, 2]), work / "p.npz")
        assert stat.S_IMODE(os.stat(work / "p.npz").st_mode) == 0o640
    finally:
        os.umask(old)


def test_sigterm_during_a_save_removes_the_temporary_file(capsys, work, monkeypatch):
    real_fsync = os.fsync

    def fsync_then_sigterm(fd):  # SIGTERM arrives while the model is being written
        real_fsync(fd)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "fsync", fsync_then_sigterm)
    before = snapshot(work)
    handler = signal.getsignal(signal.SIGTERM)
    status, _, err = cli(capsys, "train", "--data", "data.csv", "--hidden", "2", "--epochs", "1", "--out", "o.npz",
                         "--quiet")
    assert status == 143 and "terminated" in err
    assert snapshot(work) == before  # no model, no hidden temporary file
    assert signal.getsignal(signal.SIGTERM) is handler  # the command put the previous handler back


def test_standard_output_on_a_full_disk_is_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "relunet", "gradcheck", "--sizes", "2,3,2"], stdout=full,
                           stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert r.returncode == 2
    assert r.stderr == "relunet: error: cannot write to standard output: No space left on device\n"


# ---------------------------------------------------------------------------------------------- numbers and data
def write(path, text, newline=None):
    with open(path, "w", newline="") as fh:
        fh.write(text if newline is None else text.replace("\n", newline))
    return path


DATA_CASES = {
    "label 1e20": ("x1,x2,y\n0,0,0\n1,1,1e20\n", "label '1e20' is not a small integer"),
    "label 2.5": ("0,0,0\n1,1,2.5\n", "label '2.5' is not an integer"),
    "input 1e308": ("0,0,0\n1e308,1,1\n", "1e308 is too large"),
    "input -1e101": ("0,0,0\n-1e101,1,1\n", "overflow the network's arithmetic"),
    "a 200,000-character field": ("0,0,0\n" + "1" * 200_000 + ",1,1\n", "line 2"),
    "a 200,000-character word": ("0,0,0\n" + "a" * 200_000 + ",1,1\n", "line 2"),
    "an unterminated quote": ('0,0,0\n"1,1,1\n2,2,0\n', "line"),
    "NUL bytes": ("0,0,0\n\0\0\0\n", "NUL bytes"),
}


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_bad_csv_is_one_line_naming_the_file(capsys, work, case):
    text, message = DATA_CASES[case]
    write(work / "bad.csv", text)
    line = refused(capsys, "train", "--data", "bad.csv", "--epochs", "1", "--out", "o.npz")
    assert message in line and "bad.csv" in line, line
    assert not (work / "o.npz").exists()
    with pytest.raises(relunet.RelunetError, match="bad.csv"):
        relunet.read_csv(work / "bad.csv")


def test_old_mac_and_windows_line_endings_read_as_usual(work):
    for nl in ("\r", "\r\n"):
        write(work / "mac.csv", "x1,x2,y\n0,0,0\n1,0,1\n0,1,1\n", nl)
        X, y = relunet.read_csv(work / "mac.csv")
        assert X.tolist() == [[0, 0], [1, 0], [0, 1]] and y.tolist() == [0, 1, 1]
    write(work / "mac.csv", "0,0,0\r1,0,zz\r")
    with pytest.raises(relunet.RelunetError, match=r"mac.csv, line 2: 'zz' is not a number"):
        relunet.read_csv(work / "mac.csv")


def test_endless_data_ends_with_an_error_not_with_all_the_memory(capsys, work):
    line = refused(capsys, "train", "--data", "/dev/zero", "--epochs", "1", "--out", "o.npz")
    assert "larger than 64 MiB" in line
    os.mkfifo(work / "pipe.csv")

    def endless():
        try:
            with open(work / "pipe.csv", "w") as fh:
                while True:
                    fh.write("0.5,0.25,1\n" * 10_000)
        except (BrokenPipeError, OSError):
            pass

    t = threading.Thread(target=endless, daemon=True)
    t.start()
    line = refused(capsys, "predict", "--model", "m.npz", "--input", "pipe.csv")
    t.join(10)
    assert "larger than 64 MiB" in line and not t.is_alive()


SIZE_CASES = {
    "--n 10**12": (["train", "--data", "xor", "--n", str(10**12), "--out", "o.npz"], "would need 22,351.7 GiB"),
    "--batch-size 10**12": (["train", "--data", "xor", "--batch-size", str(10**12), "--out", "o.npz"],
                            "--batch-size 1,000,000,000,000 would need"),
    "--batch-size 0": (["train", "--data", "xor", "--batch-size", "0", "--out", "o.npz"], "batch"),
    "gradcheck --seed -1": (["gradcheck", "--seed", "-1"], "argument --seed: a seed must be an integer from 0"),
    "train --seed 2**40": (["train", "--data", "xor", "--seed", str(2**40), "--out", "o.npz"], "argument --seed"),
    "--data-seed -5": (["evaluate", "--model", "m.npz", "--data", "xor", "--data-seed", "-5"], "argument --data-seed"),
    "knots --interval -1e308,1e308": (["knots", "--model", "r.npz", "--interval", "-1e308,1e308"], "too large"),
    "regions --box 1e300": (["regions", "--model", "m.npz", "--box", "-1e300,1e300,-1,1"], "too large"),
    "explain --x 1e308": (["explain", "--model", "m.npz", "--x", "1e308,0", "--label", "0"], "1e308,0 is too large"),
    "explain --label 1e200 (regression)": (["explain", "--model", "r.npz", "--x", "0.5", "--label", "1e200"],
                                           "too large"),
    "--noise 1e300": (["evaluate", "--model", "m.npz", "--data", "xor", "--noise", "1e300"], "noise 1e+300 is too large"),
    "a .npy as the model": (["evaluate", "--model", "w.npy", "--data", "xor"], "is a .npy file (one array)"),
    "a folder as the model": (["evaluate", "--model", "sub", "--data", "xor"], "is a folder"),
    "a FIFO as the model": (["evaluate", "--model", "fifo", "--data", "xor"], "not a regular file"),
    "a folder as data": (["evaluate", "--model", "m.npz", "--data", "sub/"], "is a folder"),
}


@pytest.mark.parametrize("case", list(SIZE_CASES))
def test_numbers_out_of_range_and_wrong_files(capsys, work, case):
    args, message = SIZE_CASES[case]
    (work / "sub").mkdir()
    os.mkfifo(work / "fifo")
    np.save(work / "w.npy", np.ones((3, 2)))
    before = snapshot(work)
    line = refused(capsys, *args)
    assert message in line, line
    assert snapshot(work) == before


def test_library_mistakes_are_relunet_errors_naming_the_value():
    with pytest.raises(relunet.RelunetError, match="1,000,000,000,000 points would need"):
        relunet.make_dataset("xor", n=10**12)
    with pytest.raises(relunet.RelunetError, match="too large"):
        from relunet.pwl import knots
        knots(relunet.MLP([1, 3, 1], task="regression"), [-1e308, 1e308])
    assert issubclass(relunet.RelunetError, ValueError)


def test_a_closed_pipe_is_quiet(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(SRC))
    r = subprocess.run(f"{sys.executable} -m relunet gradcheck --sizes 2,40,3 | head -c 1", shell=True, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.stderr == "" and r.returncode == 0


def test_library_file_arguments_of_the_wrong_type(tmp_path):
    for call, match in ((lambda: relunet.read_csv(3), "data file must be a path, got int"),
                        (lambda: relunet.read_csv(""), "empty path"),
                        (lambda: relunet.read_csv(tmp_path / "x.csv", task="clustering"), "task must be"),
                        (lambda: relunet.load(3.5), "model file must be a path or an open file, got float"),
                        (lambda: relunet.save(relunet.MLP([2, 2]), None), "must be a path, got NoneType"),
                        (lambda: relunet.save(relunet.MLP([2, 2]), ""), "empty path"),
                        (lambda: relunet.save(relunet.MLP([2, 2]), tmp_path), "it is a folder")):
        with pytest.raises(relunet.RelunetError, match=match):
            call()


def test_ci_runs_the_readmes_two_commands_as_written():
    # .ci/run reads its commands from README.md (so they cannot drift apart): check what it reads
    root = SRC.parent
    script = f'source <(sed -n "/^readme_block()/,/^}}/p" .ci/run); root={root}; readme_block 1; echo ---; readme_block 2'
    r = subprocess.run(["bash", "-c", script], cwd=root, capture_output=True, text=True, timeout=30)
    assert r.stdout == "pip install . && relunet demo\n---\nbash scripts/test.sh\n", r.stdout + r.stderr
    assert "numba>=0.60" in (root / "pyproject.toml").read_text()
