// CodeMirror 6 with YAML highlighting and inline diagnostics; loaded only when an editor opens.

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, foldGutter, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useRef } from 'react';

export interface LineProblem {
  /** 1-based line, or undefined for the whole document. */
  line?: number;
  message: string;
}

export interface CodeEditorProps {
  value: string;
  onChange: (v: string) => void;
  problems: LineProblem[];
  readOnly?: boolean;
  label: string;
  dark: boolean;
}

export default function CodeEditor({ value, onChange, problems, readOnly = false, label, dark }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    if (!host.current) return;
    // Inside a shadow root CodeMirror's styles go to a constructed stylesheet (adoptedStyleSheets),
    // which the Content-Security-Policy allows; in the document it would add a <style> element,
    // which `style-src 'self'` blocks.
    const shadow = host.current.shadowRoot ?? host.current.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    shadow.replaceChildren(parent);
    const v = new EditorView({
      root: shadow,
      parent,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          foldGutter(),
          history(),
          indentOnInput(),
          bracketMatching(),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle),
          yaml(),
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          EditorState.readOnly.of(readOnly),
          EditorView.theme({ '&': { minHeight: '320px', maxHeight: '60vh', fontSize: '13px' }, '.cm-scroller': { overflow: 'auto' } }, { dark }),
          EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': 'yaml-editor' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor owns its document after creation; `value` seeds it once.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [readOnly, dark]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const doc = v.state.doc;
    const diagnostics: Diagnostic[] = problems.map((p) => {
      const line = p.line && p.line >= 1 && p.line <= doc.lines ? doc.line(p.line) : doc.line(1);
      return { from: line.from, to: line.to, severity: 'error', message: p.message };
    });
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [problems]);

  return <div ref={host} className="yaml-editor" />;
}
