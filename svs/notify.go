package svs

// notifyLoop delivers status changes and events to the callbacks, one at a
// time, never with a lock held: first every change waiting, then one
// event, and again. Events that arrive while a callback runs wait, and are
// coalesced.
func (g *Group) notifyLoop() {
	for {
		select {
		case <-g.base.Done():
			return
		case <-g.notifyKick:
		}
		for g.base.Err() == nil {
			g.mu.Lock()
			changes := g.changes
			g.changes = nil
			var e *Event
			if len(changes) == 0 {
				e = g.events.pop()
			}
			g.mu.Unlock()
			if len(changes) == 0 && e == nil {
				break
			}
			for _, c := range changes {
				if g.base.Err() != nil {
					return
				}
				if g.cfg.OnMemberChange != nil {
					g.cfg.OnMemberChange(g.base, c)
				}
			}
			if e != nil {
				if g.cfg.OnEvent != nil {
					g.cfg.OnEvent(g.base, *e)
				}
				g.count(func(s *Stats) { s.EventsDelivered++ })
			}
		}
	}
}
