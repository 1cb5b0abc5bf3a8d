"""Command palette: every binding of the active screen that is allowed right now, by description."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenActions(Provider):
    def _actions(self):
        screen = self.screen
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            yield binding, key, active.node

    async def discover(self) -> Hits:
        for binding, key, node in self._actions():
            yield DiscoveryHit(f"{binding.description} ({key})", partial(self._run, node, binding.action),
                               help=binding.tooltip or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for binding, key, node in self._actions():
            text = f"{binding.description} ({key})"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, node, binding.action),
                          help=binding.tooltip or None)

    async def _run(self, node, action: str) -> None:
        await self.app.run_action(action, node)
