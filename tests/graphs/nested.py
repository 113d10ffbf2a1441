"""A parent graph whose middle node is a subgraph that interrupts."""
from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    topic: str
    draft: str
    verdict: str


def write(state: State) -> dict:
    return {"draft": f"draft about {state['topic']}"}


def review(state: State) -> dict:
    return {"verdict": interrupt({"review": state["draft"]})}


inner = StateGraph(State).add_node("write", write).add_node("review", review).add_edge(START, "write").add_edge("write", "review").compile()


def publish(state: State) -> dict:
    return {"draft": state["draft"] + f" ({state['verdict']})"}


graph = StateGraph(State).add_node("editor", inner).add_node("publish", publish).add_edge(START, "editor").add_edge("editor", "publish").compile()
