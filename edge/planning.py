"""The edge's planner: measured profiles, link estimates and load in; a plan per request out.

    planner = await EdgePlanner.create(graph, own_profile, accuracy, downstream)
    plan, why = planner.choose(ask_request, key, image_bytes, png_bytes, deadline_s, hit)
    planner.record(plan, result, latency_s)          # learn from what was measured

Seeded from the edge's own start-up measurement and the fog's Status (which carries the fog's
and the cloud's profiles and the fog-cloud link); the edge-fog link from an echo probe. Every
answer updates profiles (EWMA), links (passive) and load; the fog's status and the probe are
refreshed in the background every REFRESH_S (DOWN_REFRESH_S while the fog is unreachable).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import replace
from pathlib import Path

from splitvlm.config import ServiceConfig
from splitvlm.errors import TierUnavailable
from splitvlm.executor.messages import ResultEvent, StageTiming
from splitvlm.executor.status import TierStatus
from splitvlm.executor.transport import Downstream
from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.calibration import Calibration
from splitvlm.plan.ewma import Ewma
from splitvlm.plan.links import LinkEstimator, LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.measured import ProfileReport
from splitvlm.plan.named import named_plan, with_cache_ref
from splitvlm.plan.plan import TIERS, Link, Plan, Precision, Tier, crossed
from splitvlm.plan.planner import Measurement, Planner, Transfer
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.qtype import ANSWER_TOKENS, UNKNOWN, classify
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph

REFRESH_S = 2.0
DOWN_REFRESH_S = 0.5  # while a tier is unreachable: how soon its return is noticed
VERIFY_S = 0.25  # a tier suspected down gets this long to answer a Status before it is
# planned around (a live but busy tier can miss the fallback budget of a few milliseconds)
AUTO, AUTO_FIXED = "auto", "auto:fixed"  # the planner's choice; the same without cascades
ACCURACY_FILE = "accuracy.json"
CALIBRATION_FILE = "calibration.json"
UNKNOWN_LINK = (1e6, 0.05)  # 1 Mbit/s, 50 ms until measured
ENGINE_SLOTS = 32
log = logging.getLogger(__name__)


def accuracy_dir(config: ServiceConfig) -> Path:
    """Where the accuracy table and calibration are read: a Hugging Face VLM's directory, or
    the shipped checkpoints."""
    return Path(config.model_dir) if config.model_dir else config.checkpoints


def load_calibration(checkpoints: Path) -> Calibration | None:
    """The cascade calibration (`splitvlm eval --calibrate`); None before it ran: the planner
    then considers no cascades."""
    path = checkpoints / CALIBRATION_FILE
    return Calibration.from_dict(json.loads(path.read_text())) if path.exists() else None


def load_accuracy(checkpoints: Path) -> AccuracyTable:
    path = checkpoints / ACCURACY_FILE
    if not path.exists():  # before `splitvlm eval --table`: every tier alike
        log.warning("no %s in %s: every LM tier counts as equally accurate, so the planner "
                    "trades latency and energy only (docs/models.md: the accuracy table)",
                    ACCURACY_FILE, checkpoints)
        return AccuracyTable.uniform(dict.fromkeys(TIERS, 1.0))
    return AccuracyTable.from_dict(json.loads(path.read_text()))


class EdgePlanner:
    def __init__(self, graph: StageGraph, planner: Planner, downstream: Downstream | None,
                 edge_precision: Precision, visual_version: str = "") -> None:
        self.graph, self.planner, self.downstream = graph, planner, downstream
        self.edge_precision = edge_precision
        self._refreshed = -math.inf
        self._task: asyncio.Task[None] | None = None
        self._verify: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.visual_version = visual_version  # the edge's; "" checks nothing
        # answer length of questions of no known type (a Hugging Face VLM's free text): learnt
        # from the answers, where the typed ones read ANSWER_TOKENS
        self.free_text_tokens = Ewma(ANSWER_TOKENS[UNKNOWN])
        self._mismatch_logged: set[tuple[Tier, str]] = set()

    @classmethod
    async def create(cls, graph: StageGraph, own_profile: ProfileReport,
                     accuracy: AccuracyTable, downstream: Downstream | None,
                     edge_precision: Precision, calibration: Calibration | None = None,
                     visual_version: str = "") -> EdgePlanner:
        """`visual_version`: the edge's visual model; a tier serving another one is planned
        around (its stage graph is not this one's), with an error in the log."""
        profile = ComputeProfile.from_report(graph, own_profile)
        links = LinkSet(LinkEstimator(Link.EDGE_FOG, *UNKNOWN_LINK, assumed=True),
                        LinkEstimator(Link.FOG_CLOUD, *UNKNOWN_LINK, assumed=True))
        load = LoadTracker(slots={Tier.FOG: ENGINE_SLOTS, Tier.CLOUD: ENGINE_SLOTS})
        planner = Planner(graph, profile, links, load, accuracy, calibration=calibration)
        edge = cls(graph, planner, downstream, edge_precision, visual_version)
        await edge.refresh()
        return edge

    @property
    def links(self) -> LinkSet:
        return self.planner.cost.links

    async def refresh(self) -> None:
        """Fog status (profiles of fog and cloud, their load, the fog-cloud link) and a probe."""
        self._refreshed = time.monotonic()
        edge_fog, fog_cloud = self.links[Link.EDGE_FOG], self.links[Link.FOG_CLOUD]
        status = None if self.downstream is None else await self.downstream.status(0.0)
        if status is None:
            edge_fog.observe_failure()
            fog_cloud.observe_failure()
            return
        if not self._same_model(Tier.FOG, status):
            edge_fog.observe_failure()
            fog_cloud.observe_failure()
            return
        if status.profile is not None:
            self.planner.cost.profile.seed(status.profile)
        self._report_load(Tier.FOG, status)
        if status.downstream is not None:
            self._report_load(Tier.CLOUD, status.downstream)
        if (status.next_link is not None and status.next_link.bandwidth_bps > 0
                and (status.downstream is None
                     or self._same_model(Tier.CLOUD, status.downstream))):
            fog_cloud.reported(status.next_link.bandwidth_bps, status.next_link.rtt_s)
        else:
            fog_cloud.observe_failure()
        link = await self.downstream.link(0.0) if self.downstream is not None else None
        if link is None:
            edge_fog.observe_failure()
        else:
            edge_fog.reported(link.bandwidth_bps, link.rtt_s)

    def _same_model(self, tier: Tier, status: TierStatus) -> bool:
        """Whether `tier` serves the edge's visual model: plans index one stage graph and
        hand tensors of its shapes across, so a tier serving another model cannot take part."""
        theirs = status.visual_version
        if not self.visual_version or not theirs or theirs == self.visual_version:
            return True
        if (tier, theirs) not in self._mismatch_logged:
            self._mismatch_logged.add((tier, theirs))
            log.error("the %s serves visual model %s, this edge %s: every tier must serve the "
                      "same model (docs/models.md); planning around the %s", tier, theirs,
                      self.visual_version, tier)
        return False

    def _report_load(self, tier: Tier, status: TierStatus) -> None:
        self.planner.cost.load.report(tier, max(status.engine.queued, 0), max(status.busy, 0))

    def _maybe_refresh(self) -> None:
        every = REFRESH_S if self.links.reachable(Tier.FOG) else DOWN_REFRESH_S
        if time.monotonic() - self._refreshed > every and (
                self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self.refresh())

    def choose(self, name: str, question: str, policies: frozenset[Policy],
               preset: Preset | None, image_bytes: int, png_bytes: int, deadline_s: float,
               cache_hit: bool, image_mpix: float | None = None) -> tuple[Plan, str]:
        """The named plan, or (name '' / 'auto') the planner's choice, with its explanation."""
        self._maybe_refresh()
        if name and name not in (AUTO, AUTO_FIXED):
            plan = self._calibrated(named_plan(name, self.graph, self.edge_precision), name,
                                    preset or self.planner.config.preset)
            self._check_reachable(plan)
            plan = with_cache_ref(plan, self.graph) if cache_hit else plan
            return plan, f"fixed plan {plan.name}: {plan.describe(self.graph)}"
        free_text = classify(question) == UNKNOWN
        request = PlanRequest(question, image_bytes, png_bytes=png_bytes, image_mpix=image_mpix,
                              deadline_s=deadline_s, policy=policies, preset=preset,
                              cache_hit_at_fog=cache_hit, decode_tokens=(
                                  self.free_text_tokens.value if free_text else None))
        decision = self.planner.plan(request, cascades=name != AUTO_FIXED)
        return decision.plan, decision.explain()

    def unreachable(self, tier: Tier, suspected: bool = False) -> None:
        """`tier` did not answer: the link to it is down until a status, probe or transfer
        sees it again; the half-open probe is a refresh every DOWN_REFRESH_S, with requests or
        without. A `suspected` tier (silent past the short fallback budget only) is asked for
        its status first, and planned around only if it does not answer within VERIFY_S."""
        if tier is Tier.EDGE:
            return
        loop = asyncio.get_running_loop()
        if suspected:
            if self._verify is None or self._verify.done():
                self._verify = loop.create_task(self._confirm(tier))
            return
        self.links[crossed(Tier.EDGE, tier)[-1]].observe_failure()
        if self._watch is None or self._watch.done():
            self._watch = loop.create_task(self._until_reachable())

    async def _confirm(self, tier: Tier) -> None:
        status = None
        if self.downstream is not None:
            try:
                status = await asyncio.wait_for(self.downstream.status(0.0), VERIFY_S)
            except TimeoutError:
                status = None
        if status is None or (tier is Tier.CLOUD and status.downstream is None):
            self.unreachable(tier)

    async def _until_reachable(self) -> None:
        """Refresh every DOWN_REFRESH_S until every tier is reachable again."""
        while not all(self.links.reachable(t) for t in TIERS):
            await asyncio.sleep(DOWN_REFRESH_S)
            await self.refresh()

    async def close(self) -> None:
        for task in (self._task, self._verify, self._watch):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def reachable(self, tier: Tier) -> bool:
        return self.links.reachable(tier)

    def _check_reachable(self, plan: Plan) -> None:
        """A named plan is pinned: one that needs an unreachable tier fails at once."""
        needed = [s.tier for s in plan.steps] + (
            [] if plan.escalation is None else [plan.escalation.tier])
        for tier in needed:
            if not self.links.reachable(tier):
                raise TierUnavailable(tier.value, f"the {tier} tier is unreachable, and plan "
                                      f"{plan.name} needs it; ask with plan 'auto' to be "
                                      "placed around it")

    def _calibrated(self, plan: Plan, name: str, preset: str) -> Plan:
        """A named cascade without '@threshold' takes the preset's calibrated threshold."""
        up, calibration = plan.escalation, self.planner.calibration
        if up is None or "@" in name or calibration is None:
            return plan
        threshold = calibration.threshold(preset, up.tier)
        return plan if threshold is None else replace(
            plan, escalation=replace(up, threshold=threshold))

    def record(self, plan: Plan, result: ResultEvent, latency_s: float,
               image_mpix: float | None = None, question: str = "") -> None:
        """Learn from a finished request: stage times, transfers, decode speed, load.

        A cascade is learnt as the plan that ran: edge-only, or (escalated) the edge's vision
        and the upstream LM, without the edge's dropped draft. Its prediction is an
        expectation over both outcomes, so no prediction error is recorded for it."""
        timings = result.timings
        if result.tokens > 0 and classify(question) == UNKNOWN:
            self.free_text_tokens.update(float(result.tokens))
        if plan.escalation is not None:
            ran = plan.escalated(self.graph) if result.escalated else replace(plan,
                                                                             escalation=None)
            plan = replace(ran, predicted=None)
            if result.escalated:
                timings = [t for t in timings if not (t.tier is Tier.EDGE
                                                      and t.start == self.graph.prefill)]
        stage_s: dict[int, float] = {}
        for timing in timings:
            stage_s.update(self._spread(timing, plan))
        transfers = tuple(Transfer(li.link, li.bytes, li.seconds) for li in result.links
                          if li.bytes > 0)
        decode_s = stage_s.pop(self.graph.decode, 0.0)
        status = result.status
        batch = max(status.engine.running, 1) if status is not None else 1
        accounted = sum(t.seconds for t in result.timings) + sum(li.seconds
                                                                 for li in result.links)
        self.planner.record(plan, Measurement(latency_s, stage_s, transfers,
                                              max(result.tokens - 1, 0), decode_s, batch,
                                              overhead_s=latency_s - accounted,
                                              image_mpix=image_mpix))
        lm = plan.lm_tier
        if lm is not Tier.EDGE and status is not None:
            self.planner.cost.load.report(lm, status.engine.queued, status.engine.running)

    def _spread(self, timing: StageTiming, plan: Plan) -> dict[int, float]:
        """A measured stage range -> per-stage seconds, split as the profile predicts."""
        tier, seconds, profile = timing.tier, timing.seconds, self.planner.cost.profile
        if timing.start == self.graph.prefill:  # prefill as profiled, the rest is decoding
            prefill_s = min(profile.prefill_s(tier) or 0.0, seconds)
            return {self.graph.prefill: prefill_s, self.graph.decode: seconds - prefill_s}
        step = next(s for s in plan.steps if s.tier is tier)
        predicted = [profile.stage_s(tier, i, step.precision) or 0.0 for i in timing.stages]
        total = sum(predicted)
        if total <= 0:
            return {i: seconds / len(timing.stages) for i in timing.stages}
        return {i: seconds * p / total for i, p in zip(timing.stages, predicted, strict=True)}
