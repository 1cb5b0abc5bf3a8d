"""Manager approval, shared by every screen that has an override: a manager logged in on the till
approves by being there; anyone else needs a manager's PIN typed here (checked in a thread, audited)."""

from __future__ import annotations

import asyncio

from data.operators import LoginError, OperatorInfo, authorise_manager
from widgets.dialogs import PinPrompt


async def approve(screen, reason: str, action: str) -> OperatorInfo | None:
    """`screen` has app, ctx, operator, say() and error(); returns the approving manager or None."""
    if screen.operator.is_manager:
        return screen.operator
    refused = ""
    while True:
        # The refusal is said in the prompt too: over a full screen (F8, F11) the status line is hidden.
        pin = await screen.app.push_screen_wait(PinPrompt(reason, refused))
        if pin is None:
            screen.say(f"{action}: cancelled")
            return None
        try:
            return await asyncio.to_thread(authorise_manager, screen.ctx.engine, pin, action=action,
                                           **screen.ctx.audit_where())
        except LoginError as exc:
            refused = str(exc)
            screen.error(refused)
