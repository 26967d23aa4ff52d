package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"

	"wsplay/server/broker"
	"wsplay/server/chat"
	"wsplay/server/dashboard"
	"wsplay/server/gate"
	"wsplay/server/metrics"
	"wsplay/server/notify"
	"wsplay/server/store"
)

// server holds what every endpoint shares: the configuration, the logger,
// the admission gate with the live connections, the store and the
// services.
type server struct {
	cfg    Config
	log    *slog.Logger
	site   *siteHandler
	gate   *gate.Gate
	store  *store.Store
	chat   *chat.Service
	notify *notify.Service
	broker *broker.Memory // carries chat rooms and notification changes

	metrics   *metrics.Metrics   // what the server counts about itself
	dashboard *dashboard.Service // /ws/dashboard
}

func newServer(cfg Config, log *slog.Logger, siteFS fs.FS) (*server, error) {
	site, err := newSiteHandler(siteFS)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	g, err := gate.New(cfg.gateConfig(), log, m)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, site: site, gate: g, store: st, metrics: m, broker: broker.NewMemory()}
	if s.cfg.AdminToken == "" {
		s.cfg.AdminToken = rand.Text()
		log.Info("no -admin-token given: generated one for this run; send it as \"Authorization: Bearer TOKEN\" to /api/notifications",
			"admin_token", s.cfg.AdminToken)
	}
	s.chat, err = chat.New(cfg.chatConfig(), chat.Deps{Store: st, Broker: s.broker, Gate: g, Metrics: m, Log: log})
	if err != nil {
		return nil, err
	}
	s.notify, err = notify.New(s.cfg.notifyConfig(), notify.Deps{Store: st, Broker: s.broker, Gate: g, Metrics: m, Log: log})
	if err != nil {
		return nil, err
	}
	s.dashboard, err = dashboard.New(dashboard.Config{Interval: cfg.DashboardInterval}, dashboard.Deps{Metrics: m, Gate: g, Log: log})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// shutdown closes every connection with 1001, stops the rooms, lets
// notification requests already admitted finish (later ones get 503), and
// closes the store. When ctx ends first, connections are cut.
func (s *server) shutdown(ctx context.Context) error {
	err := s.gate.Shutdown(ctx)
	s.dashboard.Wait() // each sampler stops as its last viewer leaves
	s.chat.Shutdown(ctx)
	notifyErr := s.notify.Shutdown(ctx)
	return errors.Join(err, notifyErr, s.store.Close())
}
