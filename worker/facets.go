package worker

// Facets (ctx.facets): child objects with their own databases, running
// code the parent loaded.

import (
	"context"
	"fmt"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

// MaxFacetName bounds facet names.
const MaxFacetName = 256

func init() {
	opsOf(map[string]opFunc{
		"facet.lookup": opFacetLookup,
		"facet.start":  opFacetStart,
		"facet.abort":  opFacetAbort,
		"facet.delete": opFacetDelete,
	})
}

// argFacet returns the object's facets and the facet name in args[0].
func (in *Instance) argFacet(args []any) (FacetHost, string, error) {
	o := in.cfg.Object
	if o == nil || o.Facets == nil {
		return nil, "", &warren.Error{Code: warren.CodeBadRequest, Message: "ctx.facets is only available in a Durable Object (and facets nest at most 4 levels)"}
	}
	name, err := webapi.ArgString(args, 0)
	if err != nil {
		return nil, "", err
	}
	if name == "" || len(name) > MaxFacetName {
		return nil, "", &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("a facet name must be 1 to %d characters", MaxFacetName)}
	}
	return o.Facets, name, nil
}

func opFacetLookup(in *Instance, args []any) (any, error) {
	facets, name, err := in.argFacet(args)
	if err != nil {
		return nil, err
	}
	ep := facets.Facet(name)
	if ep == nil {
		return nil, nil
	}
	return in.capID(ep)
}

// opFacetStart starts a facet: (name, Worker stub, class, id).
func opFacetStart(in *Instance, args []any) (any, error) {
	facets, name, err := in.argFacet(args)
	if err != nil {
		return nil, err
	}
	c, err := in.argCap(args, 1)
	if err != nil {
		return nil, err
	}
	stub, ok := c.(WorkerStub)
	if !ok {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the facet callback must return { class: worker.getDurableObjectClass(\"Name\") }"}
	}
	class, _ := webapi.ArgString(args, 2)
	id, _ := webapi.ArgString(args, 3)
	ctx := context.Background()
	if in.current != nil {
		ctx = in.current.ctx
	}
	ep, err := facets.StartFacet(ctx, name, stub, class, id)
	if err != nil {
		return nil, err
	}
	return in.capID(ep)
}

func opFacetAbort(in *Instance, args []any) (any, error) {
	facets, name, err := in.argFacet(args)
	if err != nil {
		return nil, err
	}
	reason, _ := webapi.ArgString(args, 1)
	facets.AbortFacet(name, reason)
	return nil, nil
}

func opFacetDelete(in *Instance, args []any) (any, error) {
	facets, name, err := in.argFacet(args)
	if err != nil {
		return nil, err
	}
	return nil, facets.DeleteFacet(name)
}
