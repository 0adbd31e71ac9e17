"""What `Client.stream` yields, typed: the plan first (again if the edge re-plans before any
token), each token, then the answer.

    for event in client.stream(image, question):
        match event:
            case PlanEvent(plan=plan):     print(plan.name)
            case TokenEvent(text=word):    print(word, end=" ")
            case AnswerEvent(answer=a):    print(a.latency_s)
"""

from __future__ import annotations

from dataclasses import dataclass

from splitvlm.errors import BadRequest, ServerError
from splitvlm.executor.messages import TokenEvent
from splitvlm.plan.plan import Plan
from splitvlm.sdk.answer import Answer, Timing
from splitvlm.service.convert import answer_from_pb, plan_from_pb
from splitvlm.stages import describe_range
from splitvlm.v1 import edge_pb2


@dataclass(frozen=True)
class PlanEvent:
    plan: Plan  # with the planner's forecast
    explanation: str
    stage_names: tuple[str, ...]  # the stage graph's names by index


@dataclass(frozen=True)
class AnswerEvent:
    answer: Answer


Event = PlanEvent | TokenEvent | AnswerEvent


class EventReader:
    """AskEvent messages -> Events; the answer gets the last plan and the tokens' words."""

    def __init__(self) -> None:
        self.plan: PlanEvent | None = None

    def read(self, msg: edge_pb2.AskEvent) -> Event:
        kind = msg.WhichOneof("event")
        try:
            if kind == "plan":
                self.plan = PlanEvent(plan_from_pb(msg.plan.plan), msg.plan.explanation,
                                      tuple(msg.plan.stage_names))
                return self.plan
            if kind == "token":
                return TokenEvent(msg.token.id, msg.token.text)
            if kind == "answer" and self.plan is not None:
                return AnswerEvent(self._answer(msg.answer))
        except BadRequest as exc:
            raise ServerError(f"the edge sent an event this SDK cannot read: {exc}") from exc
        raise ServerError(f"the edge sent {kind or 'an empty event'} "
                          f"{'before its plan' if kind == 'answer' else ''}".strip())

    def _answer(self, msg: edge_pb2.Answer) -> Answer:
        assert self.plan is not None
        fields, names = answer_from_pb(msg), self.plan.stage_names
        timings = [Timing(t.tier, t.start, t.stop, t.seconds,
                          describe_range(names, t.start, t.stop)) for t in fields.timings]
        return Answer(fields.text, self.plan.plan, timings, fields.links, fields.latency_s,
                      fields.image_key, self.plan.explanation, fields.escalated,
                      fields.edge_confidence, fields.request_id, fields.fallback,
                      fields.degraded)

