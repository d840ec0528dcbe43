"""A real JupyterLab on loopback and a headless Chromium driving it: the student's side, for the
browser tests and the student benchmark.

`JupyterLab` serves one folder (the released assignment, nothing else) from the kit's own
``jupyter lab``, on 127.0.0.1 with a token, with its home, settings and runtime files in a
scratch folder. `NotebookPage` is a notebook open in Chromium (Debian's, launched by Playwright
through its path), and does what a student does: menus, keys, the editor, the Validate button.
What the tests read is what the page shows, cell by cell, as a student scrolling through it.

`find_chromium` raises `BrowserUnavailable`, saying why, where no browser can be driven; the
tests' `chromium_or_skip` then skips them with the reason, or fails them in CI, where ``.ci/run``
installs Chromium.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.nbgrader_cli import nbgrader_environment
from autograder.sandbox.lifetime import kill_tree

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "build" / "browser"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Headless Chromium as root needs --no-sandbox; the rest keep it from calling home during a test.
CHROMIUM_ARGS = ("--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                 "--disable-sync", "--no-first-run", "--metrics-recording-only",
                 "--disable-dev-shm-usage")  # containers often have a small /dev/shm
NUMBERED_PROMPT = re.compile(r"^\[\d+\]:$")
STDERR = "application/vnd.jupyter.stderr"  # JupyterLab shows stderr and errors under this type


class BrowserUnavailable(Exception):
    """No browser can be driven here; the message says why."""


def find_chromium():
    """The path of a Chromium to drive: ``KIT_CHROMIUM``, or the first of `CHROMIUM_NAMES` on PATH."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        raise BrowserUnavailable(f"the playwright package is not installed ({error})") from None
    named = os.environ.get("KIT_CHROMIUM")
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise ValueError(f"KIT_CHROMIUM={named} is not an executable file")
        return named
    path = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if path is None:
        raise BrowserUnavailable(f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)}; "
                                 f"Debian: apt-get install chromium)")
    return path


def chromium_or_skip():
    """The path of a Chromium to drive, or skip (fail in CI, where ``.ci/run`` installs one) saying why."""
    try:
        return find_chromium()
    except ValueError as error:
        pytest.fail(str(error))
    except BrowserUnavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests cannot run in CI: {reason}")
        pytest.skip(str(reason))


def launch_chromium(playwright, path):
    args = list(CHROMIUM_ARGS) + (["--no-sandbox"] if os.geteuid() == 0 else [])
    return playwright.chromium.launch(executable_path=path, headless=True, args=args)


class JupyterLab:
    """``jupyter lab`` serving `folder` on 127.0.0.1, its home and settings under `scratch`.

    Use as a context manager; leaving it stops the server and every kernel it started.
    """

    def __init__(self, folder, scratch):
        self.folder = Path(folder)
        self.scratch = Path(scratch)
        self.process = None
        self.info = None
        self.token = secrets.token_hex(24)

    def environment(self):
        home = self.scratch / "home"
        settings = home / ".jupyter" / "lab" / "user-settings"
        # The "get Jupyter news?" toast would cover the page; a student answers it once and forgets it.
        news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {key: value for key, value in nbgrader_environment().items()
               if not key.startswith(("JUPYTER", "NBGRADER", "MPLBACKEND", "PYTHONPATH"))}
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
        return env

    def __enter__(self):
        command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
                   "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", f"--ServerApp.root_dir={self.folder}",
                   f"--IdentityProvider.token={self.token}",
                   "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        self.log = open(self.scratch / "jupyterlab.log", "w")
        self.process = subprocess.Popen(command, cwd=self.folder, env=self.environment(), stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.info = self._wait_until_serving()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_serving(self, timeout=90):
        runtime = self.scratch / "runtime" / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_text()}")
            info = self._read_server_info(runtime)
            if info is not None:
                try:
                    with urllib.request.urlopen(f"{info['url']}api/status?token={self.token}", timeout=5):
                        return info
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log_text()}")

    @staticmethod
    def _read_server_info(runtime):
        """The server's info file, or None while it is missing or still being written."""
        # jupyter_server writes this file in place, not by rename: a read can see it empty or cut short.
        try:
            info = json.loads(runtime.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return info if "url" in info else None

    def log_text(self):
        return (self.scratch / "jupyterlab.log").read_text()[-4000:]

    def url(self, notebook):
        return f"{self.info['url']}lab/tree/{notebook}?reset&token={self.token}"

    def __exit__(self, *exc):
        kill_tree(self.process)  # the server and every kernel it started
        self.process.wait()
        self.log.close()


@dataclass
class CellView:
    """What the page shows of one cell."""

    index: int
    kind: str
    prompt: str = ""
    text: str = ""
    outputs: list = field(default_factory=list)  # (mime type, text) per output
    images: list = field(default_factory=list)  # (natural width, natural height) per <img>
    math: int = 0  # typeset formulas

    @property
    def output_text(self):
        return "\n".join(text for _, text in self.outputs)

    @property
    def errors(self):
        return [text for mime, text in self.outputs if mime == STDERR]


# What a cell shows, read in one go once it is on screen: offscreen cells are not rendered
# (JupyterLab's default content-visibility), so the read waits for two frames after the scroll.
SHOWN = """async cell => {
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const images = await Promise.all([...cell.querySelectorAll('.jp-OutputArea-output img')].map(
        async img => { await img.decode().catch(() => null); return [img.naturalWidth, img.naturalHeight]; }));
    return {
        prompt: (cell.querySelector('.jp-InputPrompt')?.innerText ?? '').trim(),
        editor: cell.querySelector('.jp-InputArea-editor')?.innerText ?? '',
        markdown: cell.querySelector('.jp-RenderedMarkdown')?.innerText ?? '',
        outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(
            output => [output.getAttribute('data-mime-type'), output.innerText]),
        images,
        math: cell.querySelectorAll('mjx-container').length,
    };
}"""


class NotebookPage:
    """A notebook open in JupyterLab in `page`, driven as a student would.

    `cells` are the nbformat cells of the file opened, in order: they give cell ids to the
    page's cells, which JupyterLab numbers by position.
    """

    def __init__(self, page, cells, name):
        self.page = page
        self.ids = [cell.id for cell in cells]
        self.kinds = [cell.cell_type for cell in cells]
        self.sources = [cell.source for cell in cells]
        self.script_errors = []  # uncaught JavaScript exceptions: JupyterLab or an extension broke
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        self.name = name

    @classmethod
    def open(cls, browser, lab, notebook, cells, name):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        opened = cls(page, cells, name)  # listening for script errors before the page loads
        page.goto(lab.url(notebook))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        try:  # JupyterLab attaches the cells below the fold in idle time; one frame of work per batch
            page.wait_for_function("n => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= n",
                                   arg=len(cells), timeout=20_000)
        except Exception:
            pass  # a windowing mode that attaches only what is on screen: the arrow keys get there
        return opened

    # -- where the student is ------------------------------------------------------------------

    @property
    def active(self):
        return self.page.locator(".jp-Notebook .jp-Cell.jp-mod-active")

    def index(self, cell):
        """The position of `cell`, given by its id or its position."""
        return self.ids.index(cell) if isinstance(cell, str) else cell

    def active_index(self):
        return int(self.active.get_attribute("data-windowed-list-index"))

    def go_to(self, cell):
        """Select `cell` (an id or an index) with the arrow keys in command mode; return its locator."""
        target = self.index(cell)
        self._focus_notebook()
        while (here := self.active_index()) != target:
            self.page.keyboard.press("ArrowDown" if here < target else "ArrowUp")
            try:
                self.page.wait_for_function(
                    "here => Number(document.querySelector('.jp-Notebook .jp-Cell.jp-mod-active')"
                    ".getAttribute('data-windowed-list-index')) !== here", arg=here, timeout=5_000)
            except Exception:  # the key went elsewhere (a dialog closed, a menu took the focus)
                self._focus_notebook(click=True)
        self.active.scroll_into_view_if_needed()
        return self.active

    def _focus_notebook(self, click=False):
        """Command mode, with the keyboard on the notebook, as after clicking beside a cell."""
        inside = self.page.evaluate("() => !!document.activeElement?.closest('.jp-Notebook')")
        if click or not inside:
            self.active.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")

    def prompt(self, cell):
        return self.go_to(cell).locator(".jp-InputPrompt").inner_text().strip()

    # -- what the student does -----------------------------------------------------------------

    def run_all(self, timeout=240):
        """Run ▸ Run All Cells, then wait until the last code cell has run."""
        self._run_everything("Run", "Run All Cells", None, timeout)

    def restart_and_run_all(self, timeout=240):
        """Kernel ▸ Restart Kernel and Run All Cells…, confirmed; wait until the last code cell has run."""
        self._run_everything("Kernel", "Restart Kernel and Run All Cells…", "Confirm Kernel Restart", timeout)

    def _run_everything(self, menu, item, confirm, timeout):
        last = max(i for i, kind in enumerate(self.kinds) if kind == "code")
        before = self._prompt_in_dom(last)
        self.page.get_by_role("menuitem", name=menu, exact=True).click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()
        if confirm:
            self.page.locator(".jp-Dialog").get_by_role("button", name=confirm).click()
        self.wait_ran(last, before, timeout)

    def _prompt_in_dom(self, index):
        """A cell's prompt read from the DOM without scrolling to it (to tell a new run from an old one)."""
        prompt = self.page.evaluate(
            "i => document.querySelector(`.jp-Notebook .jp-Cell[data-windowed-list-index='${i}'] .jp-InputPrompt`)"
            "?.textContent ?? null", index)
        return prompt.strip() if prompt is not None else self.prompt(index)

    def wait_ran(self, cell, before, timeout=120):
        """Wait until `cell` has run again: its prompt showed `before`; it now shows an execution
        count, a different one or the same after showing ``[*]`` (a restart counts from 1 again)."""
        deadline = time.monotonic() + timeout
        queued = False
        while time.monotonic() < deadline:
            prompt = self.prompt(cell)
            queued = queued or prompt == "[*]:"
            if NUMBERED_PROMPT.match(prompt) and (prompt != before or queued):
                return prompt
            self.page.wait_for_timeout(250)
        raise AssertionError(f"cell {cell} did not finish running within {timeout} s (prompt {prompt!r})")

    def type_answer(self, cell, source):
        """Replace `cell`'s code through its editor, as typing or pasting does."""
        self.go_to(cell).locator(".cm-content").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(source.strip("\n"))
        self.page.keyboard.press("Escape")

    def run_and_advance(self, cell):
        """Shift+Enter on `cell`; wait until it has run. The next cell becomes the active one."""
        before = self.prompt(cell)
        self.page.keyboard.press("Shift+Enter")
        self.wait_ran(cell, before)

    def validate(self, timeout=180):
        """Click nbgrader's Validate button; return the text of the results dialog and close it."""
        self.page.get_by_role("button", name="Validate").click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.get_by_text("Validation Results").wait_for(timeout=timeout * 1000)
        text = dialog.locator(".jp-Dialog-body").inner_text()
        self.screenshot("validate")
        dialog.get_by_role("button", name="Ok").click()
        dialog.wait_for(state="detached")
        return text

    # -- what the page shows -------------------------------------------------------------------

    def view(self, cell, math_timeout=10_000):
        """What the page shows of `cell` once it is scrolled into view (formulas typeset)."""
        index = self.index(cell)
        node = self.go_to(index).element_handle()
        if "$" in self.sources[index]:
            try:  # MathJax typesets after the cell is drawn
                self.page.wait_for_function(
                    "node => !node.querySelector('.jp-RenderedMarkdown')?.innerText.includes('$')", arg=node,
                    timeout=math_timeout)
            except Exception:
                pass  # the caller's assertion shows the raw text
        shown = node.evaluate(SHOWN)
        view = CellView(index, self.kinds[index], prompt=shown["prompt"], math=shown["math"],
                        outputs=[tuple(output) for output in shown["outputs"]],
                        images=[tuple(image) for image in shown["images"]])
        view.text = shown["markdown"] if view.kind == "markdown" else shown["editor"]
        return view

    def views(self):
        """Every cell, as a student scrolling through the notebook sees it, in notebook order.

        The walk starts from whichever end is nearer the selected cell, as a student would."""
        indexes = range(len(self.ids))
        if self.active_index() > len(self.ids) // 2:
            indexes = reversed(indexes)
        return sorted((self.view(index) for index in indexes), key=lambda view: view.index)

    def screenshot(self, step):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=path)
        return path
