"""The wizard's steps in order: the window builds them from here and knows only StepPage."""

from __future__ import annotations

from studio.ui.i18n import N_
from studio.ui.jobs_qt import JobManager
from studio.ui.pages.demo.demo_page import DemoPage
from studio.ui.pages.deploy.deploy_page import DeployPage
from studio.ui.pages.inspect.inspect_page import InspectPage
from studio.ui.pages.model.model_page import ModelPage
from studio.ui.pages.optimize.optimize_page import OptimizePage
from studio.ui.pages.target.target_page import TargetPage
from studio.ui.state import WizardState
from studio.ui.widgets import StepPage

STEP_NAMES = [N_("Model"), N_("Target"), N_("Optimize"), N_("Inspect"), N_("Deploy"), N_("Demo")]


def build_pages(state: WizardState, jobs: JobManager) -> list[StepPage]:
    """One page per name in STEP_NAMES, in the same order."""
    deploy, demo = DeployPage(state, jobs), DemoPage(state, jobs)
    demo.serve.device = lambda: _chosen_device(deploy)
    return [
        ModelPage(state),
        TargetPage(state, jobs),
        OptimizePage(state, jobs),
        InspectPage(state, jobs),
        deploy,
        demo,
    ]


def _chosen_device(deploy: DeployPage) -> str | None:
    """The phone or board chosen on the Deploy step (This PC has its own Serve button)."""
    device = deploy.devices.selected()
    return device.serial if device is not None and device.kind != "this-pc" else None
