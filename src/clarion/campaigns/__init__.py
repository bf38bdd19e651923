"""Action campaigns (schedules, recurrence, waves, rate control) and API-triggered campaigns."""
