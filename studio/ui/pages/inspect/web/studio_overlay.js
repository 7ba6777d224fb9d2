// Edge Deploy Studio's hooks into the Netron page: colour nodes, select nodes, report clicks.
// Messages to the app go through console.log lines starting with "studio:" (read by the Qt page).
(function () {
    'use strict';
    const PREFIX = 'node-name-';
    const send = (kind, value) => console.log(`studio:${kind} ${JSON.stringify(value)}`);

    const nodeElement = (name) => document.getElementById(PREFIX + name);

    // Netron's labels ask for "sans-serif": on a plain Debian that is Noto Sans, which has no
    // 〈 〉 (U+3008/9) around shapes: empty boxes. Name fonts that have them: Noto Sans CJK
    // (fonts-noto-cjk, for the Chinese UI too), else Noto Sans Yi from fonts-noto-core (README).
    const FONTS = '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Noto Sans", ' +
        '"DejaVu Sans", "Noto Sans CJK SC", "Noto Sans Yi", sans-serif, "PingFang SC"';
    const addFonts = () => {
        const style = document.createElement('style');
        style.id = 'studio-fonts';
        style.textContent = `.node-item text, .node-argument > text, .edge-label ` +
            `{ font-family: ${FONTS} !important; }`;
        document.head.appendChild(style);
    };
    if (document.head) {
        addFonts();
    } else {
        document.addEventListener('DOMContentLoaded', addFonts);
    }

    const paint = (element, colours) => {
        // colours: [background, text] or null to restore Netron's own look. The header boxes
        // of a Netron node are the paths of its `node-item` groups.
        const [fill, text] = colours || [null, null];
        for (const path of element.querySelectorAll('.node-item path')) {
            if (fill) {
                path.style.setProperty('fill', fill, 'important');
            } else {
                path.style.removeProperty('fill');
            }
        }
        for (const label of element.querySelectorAll('.node-item text')) {
            if (text) {
                label.style.setProperty('fill', text, 'important');
            } else {
                label.style.removeProperty('fill');
            }
        }
        if (fill) {
            element.setAttribute('data-studio-colour', fill);
        } else {
            element.removeAttribute('data-studio-colour');
        }
    };

    window.studio = {
        // map: {node name: [background, text]}; every other node gets `others` (or keeps
        // Netron's colours when `others` is null). Returns how many named nodes were found.
        colour(map, others) {
            let painted = 0;
            for (const element of document.querySelectorAll('[data-studio-colour]')) {
                paint(element, null);
            }
            if (others) {
                for (const element of document.querySelectorAll('g.node')) {
                    paint(element, others);
                }
            }
            for (const [name, colours] of Object.entries(map)) {
                const element = nodeElement(name);
                if (element) {
                    paint(element, colours);
                    painted++;
                }
            }
            return painted;
        },
        select(name) {
            const view = window.__view__;
            const target = view && view._target;
            const element = nodeElement(name);
            if (!target || !element) {
                return false;
            }
            for (const [value, item] of target._table) {
                if (item && item.id === PREFIX + name) {
                    target.scrollTo(target.select([value]));
                    return true;
                }
            }
            return false;
        },
        selected() {
            return Array.from(document.querySelectorAll('g.node.select'))
                .map((e) => e.id).filter((id) => id.startsWith(PREFIX))
                .map((id) => id.substring(PREFIX.length));
        },
        nodeCount() {
            return document.querySelectorAll('g.node').length;
        }
    };

    document.addEventListener('click', (event) => {
        const element = event.target && event.target.closest ? event.target.closest('g.node') : null;
        if (element && element.id && element.id.startsWith(PREFIX)) {
            send('select', element.id.substring(PREFIX.length));
        }
    }, true);

    // Tell the app once the graph is drawn, or that Netron showed an error instead; pass on
    // notices (e.g. "large graph layout might take a long time") so the app can show them.
    let reported = false;
    let notice = '';
    const messageText = () => {
        const text = document.getElementById('message-text');
        return text ? text.innerText : '';
    };
    const timer = setInterval(() => {
        const body = document.body;
        if (reported || !body) {
            return;
        }
        const count = window.studio.nodeCount();
        if (body.classList.contains('default') && count > 0) {
            reported = true;
            clearInterval(timer);
            send('ready', count);
        } else if (body.classList.contains('alert') || body.classList.contains('message')) {
            reported = true;
            clearInterval(timer);
            send('error', messageText() || 'Netron could not show this model');
        } else if (body.classList.contains('notification') && messageText() !== notice) {
            notice = messageText();
            send('notice', notice);
        }
    }, 100);
})();
