import * as assert from "assert";
import { drawsInPlace, Progress } from "../../cli/progress";

/** A terminal of `rows` lines of `columns` characters that interprets the progress view's escape sequences. */
class Screen {
    readonly isTTY = true;
    readonly lines: string[] = [""];
    private row = 0;
    constructor(readonly columns: number) {}
    write(text: string): void {
        for (const part of text.split(/(\x1b\[\d*[A-Za-z]|\n)/).filter((p) => p.length > 0)) {
            const escape = /^\x1b\[(\d*)([A-Za-z])$/.exec(part);
            if (part === "\n") {
                this.row++;
                this.lines[this.row] ??= "";
            } else if (escape?.[2] === "F") {
                this.row -= Number(escape[1] || 1);
                assert.ok(this.row >= 0, "the cursor never goes above the view's first line");
            } else if (escape?.[2] === "K") {
                this.lines[this.row] = "";
            } else if (escape) {
                assert.fail(`an escape sequence the view should not use: ${JSON.stringify(part)}`);
            } else {
                this.lines[this.row] += part;
                assert.ok(this.lines[this.row].length <= this.columns - 1, `no line wraps: ${this.lines[this.row]}`);
            }
        }
    }
    /** What a user sees, without the empty line under the cursor. */
    get shown(): string[] {
        return this.lines.slice(0, this.row);
    }
}

describe("the progress of a fleet's stacks", () => {
    it("at a terminal: one line per stack, rewritten in place as its run goes on", () => {
        const screen = new Screen(80);
        const progress = new Progress(screen, true);
        progress.stack("primary", "[primary] up: starting");
        progress.stack("primary", "[primary] up: create Namespace istio-system (1 changed, 0.4s)");
        progress.stack("primary", "[primary] up: done, 1 changed in 3.0s", true);
        for (const r of ["remote-a", "remote-b", "remote-c"]) {
            progress.stack(r, `[${r}] up: starting`);
        }
        progress.stack("remote-b", "[remote-b] up: create Secret cacerts (1 changed, 1.2s)");
        progress.stack("remote-a", "[remote-a] up: create Deployment istiod (4 changed, 2.0s)");
        assert.deepStrictEqual(screen.shown, [
            "[primary] up: done, 1 changed in 3.0s",
            "[remote-a] up: create Deployment istiod (4 changed, 2.0s)",
            "[remote-b] up: create Secret cacerts (1 changed, 1.2s)",
            "[remote-c] up: starting",
        ]);
    });

    it("puts a notice above the running stacks' lines, and what follows the last stack's end below them", () => {
        const screen = new Screen(80);
        const progress = new Progress(screen, true);
        progress.stack("remote-a", "[remote-a] up: starting");
        progress.stack("remote-b", "[remote-b] up: starting");
        progress.say("[remote-a] removing the lock left by pulumi pid 4711: that process is gone");
        progress.stack("remote-a", "[remote-a] up: done, 0 changed in 2.0s", true);
        progress.stack("remote-b", "[remote-b] up: FAILED after 2.5s: boom", true);
        progress.say("stack     op  result\nremote-a  up  ok");
        assert.deepStrictEqual(screen.shown, [
            "[remote-a] removing the lock left by pulumi pid 4711: that process is gone",
            "[remote-a] up: done, 0 changed in 2.0s",
            "[remote-b] up: FAILED after 2.5s: boom",
            "stack     op  result",
            "remote-a  up  ok",
        ]);
    });

    it("cuts a line to the terminal's width rather than let it wrap, which would break the count of lines to rewrite", () => {
        const screen = new Screen(30);
        const progress = new Progress(screen, true);
        progress.stack("remote-a", "[remote-a] up: create CustomResourceDefinition virtualservices.networking.istio.io");
        progress.stack("remote-a", "[remote-a] up: done", true);
        assert.deepStrictEqual(screen.shown, ["[remote-a] up: done"]);
        progress.stack("remote-b", "[remote-b] up: create CustomResourceDefinition virtualservices.networking.istio.io");
        assert.strictEqual(screen.shown[1], "[remote-b] up: create Custom…");
    });

    it("elsewhere: every update a plain line of its own, in the order it happened", () => {
        let text = "";
        const progress = new Progress({ write: (t: string) => (text += t) }, false);
        progress.stack("remote-a", "[remote-a] up: starting");
        progress.stack("remote-b", "[remote-b] up: starting");
        progress.say("a notice");
        progress.stack("remote-a", "[remote-a] up: done", true);
        assert.strictEqual(text, "[remote-a] up: starting\n[remote-b] up: starting\na notice\n[remote-a] up: done\n");
    });

    it("draws in place only at a terminal, and not in CI or with TERM=dumb", () => {
        const tty = { isTTY: true, write: () => true };
        assert.strictEqual(drawsInPlace(tty, { TERM: "xterm" }), true);
        assert.strictEqual(drawsInPlace({ write: () => true }, { TERM: "xterm" }), false, "a pipe or a file");
        assert.strictEqual(drawsInPlace(tty, { TERM: "xterm", CI: "true" }), false);
        assert.strictEqual(drawsInPlace(tty, { TERM: "dumb" }), false);
    });
});
