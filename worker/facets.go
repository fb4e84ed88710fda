package worker

// Facets (ctx.facets): child objects with their own databases, running
// code the parent loaded.

import (
	"fmt"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

// MaxFacetName bounds facet names.
const MaxFacetName = 256

func init() {
	opsOf(map[string]opFunc{
		"facet.lookup": facetOp(opFacetLookup),
		"facet.start":  facetOp(opFacetStart),
		"facet.abort":  facetOp(opFacetAbort),
		"facet.delete": facetOp(opFacetDelete),
	})
}

// facetOp is an operation on one of the object's facets, named by args[0].
func facetOp(f func(in *Instance, facets FacetHost, name string, args []any) (any, error)) opFunc {
	return func(in *Instance, args []any) (any, error) {
		o := in.cfg.Object
		if o == nil || o.Facets == nil {
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "ctx.facets is only available in a Durable Object (and facets nest at most 4 levels)"}
		}
		name, err := webapi.ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		if name == "" || len(name) > MaxFacetName {
			return nil, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("a facet name must be 1 to %d characters", MaxFacetName)}
		}
		return f(in, o.Facets, name, args)
	}
}

func opFacetLookup(in *Instance, facets FacetHost, name string, args []any) (any, error) {
	ep := facets.Facet(name)
	if ep == nil {
		return nil, nil
	}
	return in.capID(ep)
}

// opFacetStart starts a facet: (name, Worker stub, class, id).
func opFacetStart(in *Instance, facets FacetHost, name string, args []any) (any, error) {
	stub, err := argCapAs[WorkerStub](in, args, 1, "a loaded Worker")
	if err != nil {
		return nil, &warren.Error{Code: warren.CodeBadRequest, Message: "the facet callback must return { class: worker.getDurableObjectClass(\"Name\") }"}
	}
	class, _ := webapi.ArgString(args, 2)
	id, _ := webapi.ArgString(args, 3)
	ep, err := facets.StartFacet(in.callContext(), name, stub, class, id)
	if err != nil {
		return nil, err
	}
	return in.capID(ep)
}

func opFacetAbort(in *Instance, facets FacetHost, name string, args []any) (any, error) {
	reason, _ := webapi.ArgString(args, 1)
	facets.AbortFacet(name, reason)
	return nil, nil
}

func opFacetDelete(in *Instance, facets FacetHost, name string, args []any) (any, error) {
	return nil, facets.DeleteFacet(name)
}
