"""`studio graph MODEL`: the graph view on its own, in a window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from studio.ui.i18n import tr
from studio.ui.pages.inspect.graph_panel import GraphPanel


class GraphWindow(QMainWindow):
    def __init__(self, model: Path) -> None:
        super().__init__()
        self.setWindowTitle(tr("{name} — Edge Deploy Studio", name=model.name))
        self.panel = GraphPanel(self)
        self.setCentralWidget(self.panel)
        self.resize(1200, 850)
        self.panel.set_model(model)

    def closeEvent(self, event) -> None:
        self.panel.shutdown()
        super().closeEvent(event)


def run_graph_window(model: Path) -> int:
    from studio.ui.app import quiet_web_engine

    quiet_web_engine()
    # WebEngine wants shared GL contexts set before the application object exists.
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.ui.app import start_language

    start_language(app)
    window = GraphWindow(model)
    window.show()
    return app.exec()
