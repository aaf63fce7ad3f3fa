// SPDX-License-Identifier: GPL-2.0-or-later
//
// drive.js PLAN.json - opens Debian's chromium (headless, through
// playwright-core; never a downloaded browser) on a classic Notebook 6.4
// page, alone or behind JupyterHub, and does what a person would do there:
// the steps of the plan, in order.  One JSON line on stdout per step done,
// as soon as it is done, so that the caller can look at Slurm meanwhile:
//   {"step": I, "do": WHAT, "ms": HOW LONG IT TOOK, ...what the page showed}
// On any failure: {"error": MESSAGE, "step": I}, exit status 1.  Either
// way, a screenshot of the page at the end goes to plan.screenshot.
//
// The plan: {"base": "http://127.0.0.1:PORT", "token": TOKEN (a Notebook
// server) or "user"/"password" (a hub: base is the hub's), "screenshot":
// PATH, "steps": [...]}.  Steps:
//   {"do": "login"}           the hub's login form; waits until the user's
//                             server is up (hub only)
//   {"do": "open", "path": P} opens notebook P; waits for its kernel to
//                             answer kernel_info (what the page's kernel
//                             indicator waits for); gives the reply's
//                             implementation
//   {"do": "run", "cell": I, "code": C, "wait": true, "until": S}
//                             types C into code cell I and presses
//                             Shift-Enter; waits for "In [N]:" and for
//                             the output to contain S (wait false: for
//                             "In [*]:" only); gives the prompt and the
//                             output text
//   {"do": "output", "cell": I, "contains": S, "done": false}
//                             waits for cell I's output to contain S
//                             (done: and for "In [N]:")
//   {"do": "interrupt"}       Kernel > Interrupt
//   {"do": "restart"}         Kernel > Restart, confirmed; waits for the
//                             new kernel to answer kernel_info
//   {"do": "close_halt"}      File > Close and Halt; waits for the page to
//                             have asked the server to end the session
// Every step may carry "timeout" (seconds, default 60) and "shot": PATH,
// a screenshot of the page once the step is done, named by the caller
// after what the page then shows.
//
// A cell's state: its prompt, its output's text, and "outputs", one
// {"kind": stdout|stderr|error|display, "text": T} per output area, so
// that a caller can count lines and tell a stream from another.
'use strict';

const fs = require('fs');
const { chromium } = require('playwright-core');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const DEFAULT_TIMEOUT = 60;

function say(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

function notebookUrl(path) {
	const q = plan.token ? `?token=${encodeURIComponent(plan.token)}` : '';
	const prefix = plan.user ? `/user/${plan.user}` : '';
	return `${plan.base}${prefix}/notebooks/${encodeURIComponent(path)}${q}`;
}

// The cell's prompt and output as the page shows them, and whether this is
// still the page "open" loaded (kept).  Prompts are "In [1]:" with a
// non-breaking space after "In"; it is kept, the caller's patterns allow
// for it.
async function cellState(page, i) {
	const cell = page.locator('.cell.code_cell').nth(i);
	return {
		prompt: (await cell.locator('.input_prompt').innerText()).trim(),
		output: await cell.locator('.output_wrapper').innerText(),
		outputs: await page.evaluate(outputAreas, i),
		kept: await page.evaluate(() => window.sjOpened === true),
	};
}

// In the page: cell i's output areas.  Notebook 6 marks a stream's area
// output_stdout or output_stderr, an error's output_error; the rest are
// display_data (and execute_result) to us.  The text is the area's
// content, without its prompt.
function outputAreas(i) {
	const c = document.querySelectorAll('.cell.code_cell')[i];
	const kinds = ['stdout', 'stderr', 'error'];
	return Array.from(c.querySelectorAll('.output_area'), (a) => {
		const sub = a.querySelector('.output_subarea');
		const kind = kinds.find((k) => sub && sub.classList.contains(`output_${k}`));
		return { kind: kind || 'display', text: (sub || a).innerText };
	});
}

async function waitPrompt(page, i, re, ms) {
	await page.waitForFunction(([idx, src]) => {
		const c = document.querySelectorAll('.cell.code_cell')[idx];
		const p = c && c.querySelector('.input_prompt');
		return p && new RegExp(src).test(p.textContent.trim());
	}, [i, re], { timeout: ms });
}

async function waitOutput(page, i, want, ms) {
	await page.waitForFunction(([idx, w]) => {
		const c = document.querySelectorAll('.cell.code_cell')[idx];
		const o = c && c.querySelector('.output_wrapper');
		return o && o.innerText.includes(w);
	}, [i, want], { timeout: ms });
}

// Waits until the kernel behind the page has answered kernel_info since
// window.sjMark was set (open: since the page loaded).
async function waitKernelInfo(page, ms) {
	await page.waitForFunction(() => {
		const k = window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel;
		return k && k.is_connected() && k.info_reply &&
			k.info_reply.implementation && !window.sjRestarting;
	}, null, { timeout: ms });
	return page.evaluate(() => Jupyter.notebook.kernel.info_reply.implementation);
}

// A menu of the menu bar (its link's id), then one of its items (the id).
async function menu(page, top, item) {
	await page.click(`#${top}`);
	await page.locator(`#${item} > a`).click();
}

const steps = {
	async login(page, s, ms) {
		await page.goto(`${plan.base}/hub/login`);
		await page.fill('#username_input', plan.user);
		await page.fill('#password_input', plan.password);
		await page.click('#login_submit');
		// The hub spawns the server, then sends the browser to its tree.
		await page.waitForURL(new RegExp(`/user/${plan.user}/tree`), { timeout: ms });
		return { url: page.url().replace(/\?.*/, '') };
	},
	async open(page, s, ms) {
		await page.goto(notebookUrl(s.path));
		const implementation = await waitKernelInfo(page, ms);
		// Gone if the page is ever loaded again (see "kept").
		await page.evaluate(() => { window.sjOpened = true; });
		return { implementation };
	},
	async run(page, s, ms) {
		const cell = page.locator('.cell.code_cell').nth(s.cell);
		await cell.locator('.CodeMirror').click();
		// insertText: no key events, so CodeMirror's bracket closing and
		// indenting leave the code as it is.
		await page.keyboard.insertText(s.code);
		await page.keyboard.press('Shift+Enter');
		if (s.wait === false) {
			await waitPrompt(page, s.cell, '^In\\s\\[\\*\\]:$', ms);
		} else {
			await waitPrompt(page, s.cell, '^In\\s\\[\\d+\\]:$', ms);
			// The reply (the prompt) and the output come on different
			// channels, in either order.
			if (s.until)
				await waitOutput(page, s.cell, s.until, ms);
		}
		return cellState(page, s.cell);
	},
	async output(page, s, ms) {
		await waitOutput(page, s.cell, s.contains, ms);
		if (s.done)
			await waitPrompt(page, s.cell, '^In\\s\\[\\d+\\]:$', ms);
		return cellState(page, s.cell);
	},
	async interrupt(page) {
		await menu(page, 'kernellink', 'int_kernel');
		return {};
	},
	async restart(page, s, ms) {
		// Set before the click: the old kernel's reply must not count.
		await page.evaluate(() => {
			window.sjRestarting = true;
			Jupyter.notebook.events.one('kernel_ready.Kernel', () => {
				window.sjRestarting = false;
			});
		});
		await menu(page, 'kernellink', 'restart_kernel');
		await page.locator('.modal-dialog button', { hasText: /^Restart$/ }).click();
		return { implementation: await waitKernelInfo(page, ms) };
	},
	async close_halt(page, s, ms) {
		const gone = page.waitForResponse(
			(r) => r.request().method() === 'DELETE' &&
				/\/api\/sessions\//.test(r.url()), { timeout: ms });
		// The page may close itself: its last look is taken now.
		await page.screenshot({ path: plan.screenshot, fullPage: true });
		await menu(page, 'filelink', 'close_and_halt');
		const r = await gone;
		return { status: r.status() };
	},
};

async function main() {
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		headless: true,
	});
	let page = null;
	let i = -1;
	let rc = 0;
	try {
		page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		// Notebook asks before leaving a page with a running kernel.
		page.on('dialog', (d) => d.accept());
		page.setDefaultTimeout(1000 * DEFAULT_TIMEOUT);
		for (i = 0; i < plan.steps.length; i++) {
			const s = plan.steps[i];
			const ms = 1000 * (s.timeout || DEFAULT_TIMEOUT);
			if (!steps[s.do])
				throw new Error(`unknown step ${s.do}`);
			const t0 = Date.now();
			const got = await steps[s.do](page, s, ms);
			if (s.shot)
				await page.screenshot({ path: s.shot, fullPage: true });
			say({ step: i, do: s.do, ms: Date.now() - t0, ...got });
		}
	} catch (e) {
		say({ error: String(e.message || e).split('\n').slice(0, 6).join('\n'), step: i });
		rc = 1;
	}
	if (page && !page.isClosed()) {
		try {
			await page.screenshot({ path: plan.screenshot, fullPage: true });
		} catch (e) {
			say({ error: `screenshot: ${e.message}` });
			rc = 1;
		}
	}
	await browser.close();
	return rc;
}

main().then((rc) => process.exit(rc), (e) => {
	say({ error: String(e && e.stack || e) });
	process.exit(1);
});
