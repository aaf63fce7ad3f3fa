# SPDX-License-Identifier: GPL-2.0-or-later
"""The Jupyter messaging protocol, checked by Debian's jupyter_kernel_test.

The same expectations are checked twice, side by side: for ipykernel run on
a compute node through the shim, and for the plain local ipykernel
(kernelspec "python3").  Whatever a frontend sees from the local kernel, it
must see the same from the Slurm one: output streams, completion,
inspection, history, is_complete, the pager, display_data, clear_output,
execute_result and errors.
"""
import json
import os
import shutil
import tempfile

# Imported as a module: a KernelTests name in this module's namespace would
# be collected by pytest as a test class of its own.
import jupyter_kernel_test as jkt

from conftest import NODES, PYTHON_KERNEL, SHIM, job_gone, wait_until


class Expectations:
    """What ipykernel answers, wherever it runs."""

    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('an error line', file=sys.stderr)"

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import ipykernel_lau",
         "matches": {"ipykernel_launcher"}},
    ]

    complete_code_samples = ["1", "print('hello, world')",
                             "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]

    code_page_something = "print?"

    code_generate_error = "raise ValueError('boom')"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]

    code_display_data = [
        {"code": "from IPython.display import HTML, display\n"
                 "display(HTML('<b>test</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display\n"
                 "display(Math('\\\\frac{1}{2}'))",
         "mime": "text/latex"},
    ]

    # Matches "1+2+3" of code_execute_result.
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "range", "search")

    def test_history(self):
        """Tail, range and search of the history, as jupyter_kernel_test's
        own test_history checks them, but for one point: ipykernel answers
        a range of the current session with session number 0 (IPython's
        "this session"), where jupyter_kernel_test 0.4.5 wants the number
        the tail showed (its own ipykernel example leaves range out; and a
        range left out is a SkipTest in a subTest, which pytest turns into
        a skip of the whole test, tail and search included)."""
        codes = [s["code"] for s in self.code_execute_result]
        n = len(codes)

        reply = self.history_helper(codes, output=False, raw=True,
                                    hist_access_type="tail", n=n)
        history = reply["content"]["history"]
        self.assertEqual([h[2] for h in history], codes)
        session, start = history[0][0:2]
        reply = self.history_helper(codes, output=True, raw=True,
                                    hist_access_type="tail", n=n)
        self.assertEqual(len(reply["content"]["history"][0][2]), 2)

        reply = self.history_helper(codes, output=False, raw=True,
                                    hist_access_type="range",
                                    session=session, start=start,
                                    stop=start + 1)
        [(got_session, line, source)] = reply["content"]["history"]
        self.assertIn(got_session, (session, 0))
        self.assertEqual((line, source), (start, codes[0]))

        pattern = self.code_history_pattern
        reply = self.history_helper(codes, output=False, raw=True,
                                    hist_access_type="search",
                                    pattern=pattern)
        self.assertGreaterEqual(len(reply["content"]["history"]), 1)
        reply = self.history_helper(codes, output=False, raw=True,
                                    hist_access_type="search",
                                    pattern=pattern, unique=True)
        self.assertEqual(len(reply["content"]["history"]), 1)
        reply = self.history_helper(codes, output=False, raw=True,
                                    hist_access_type="search",
                                    pattern=pattern, n=3)
        self.assertEqual(len(reply["content"]["history"]), 3)

    code_inspect_sample = "zip"

    code_clear_output = ("from IPython.display import clear_output\n"
                         "print('soon gone')\nclear_output()")

    @classmethod
    def setUpClass(cls):
        # A private JUPYTER_PATH for the kernelspec, and a private IPython
        # directory: the history tests read the tail of the history
        # database, which other kernels of this user must not write into.
        cls.private = tempfile.mkdtemp(prefix="conformance-")
        cls.saved_env = {k: os.environ.get(k)
                         for k in ("JUPYTER_PATH", "IPYTHONDIR")}
        os.environ["JUPYTER_PATH"] = cls.private
        os.environ["IPYTHONDIR"] = os.path.join(cls.private, "ipython")
        cls.write_kernelspec()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for k, v in cls.saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(cls.private, ignore_errors=True)

    @classmethod
    def write_kernelspec(cls):
        pass


class TestLocalIPyKernel(Expectations, jkt.KernelTests):
    """The reference: Debian's ipykernel, started on this host."""

    kernel_name = "python3"


class TestSlurmIPyKernel(Expectations, jkt.KernelTests):
    """The same ipykernel, on a compute node through the shim."""

    kernel_name = "conformance-slurm"

    @classmethod
    def write_kernelspec(cls):
        d = os.path.join(cls.private, "kernels", cls.kernel_name)
        os.makedirs(d)
        spec = {
            "argv": [SHIM, "--linger=0", "-p", "debug", "-t", "10",
                     "-f", "{connection_file}", "--", *PYTHON_KERNEL],
            "display_name": "Python 3 (Slurm conformance)",
            "language": "python",
            "interrupt_mode": "signal",
        }
        with open(os.path.join(d, "kernel.json"), "w") as f:
            json.dump(spec, f)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        out = []
        cls.kc.execute_interactive(
            "import os; print(os.environ['SLURM_JOB_ID'])", timeout=30,
            output_hook=lambda m: out.append(m["content"].get("text", "")))
        cls.job = int("".join(out))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # Shutting the kernel down released its allocation.
        wait_until(job_gone(cls.job), 45, f"job {cls.job} to be released")

    def test_runs_on_a_compute_node(self):
        """The kernel checked above is the one on a node, not a local
        one: it sees the node's name and its job."""
        self.flush_channels()
        reply, output = self.execute_helper(
            "import os\nprint(os.environ.get('SLURMD_NODENAME'), "
            "os.environ.get('SLURM_JOB_ID'))")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"]["text"] for m in output
                       if m["msg_type"] == "stream")
        node, job = text.split()
        self.assertIn(node, NODES)
        self.assertTrue(job.isdigit(), text)

