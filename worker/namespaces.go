package worker

// Durable Object namespaces (env.MY_DO, ctx.exports.<Class>): ids, and the
// fetch and RPC calls of object stubs.

import (
	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/webapi"
)

func init() {
	opsOf(map[string]opFunc{
		"ns.idFromName":   opIDFromName,
		"ns.newUniqueId":  opNewUniqueID,
		"ns.idFromString": opIDFromString,
		"ns.fetch":        opObjectFetch,
		"ns.call":         opObjectCall,
		"object.abort":    opObjectAbort,
	})
}

func (in *Instance) argNamespace(args []any, i int) (Namespace, error) {
	return argCapAs[Namespace](in, args, i, "a Durable Object namespace")
}

func opIDFromName(in *Instance, args []any) (any, error) {
	ns, err := in.argNamespace(args, 0)
	if err != nil {
		return nil, err
	}
	name, _ := webapi.ArgString(args, 1)
	return ns.IDFromName(name), nil
}

func opNewUniqueID(in *Instance, args []any) (any, error) {
	ns, err := in.argNamespace(args, 0)
	if err != nil {
		return nil, err
	}
	return ns.NewUniqueID(), nil
}

func opIDFromString(in *Instance, args []any) (any, error) {
	ns, err := in.argNamespace(args, 0)
	if err != nil {
		return nil, err
	}
	s, _ := webapi.ArgString(args, 1)
	return ns.ParseID(s)
}

// opObjectFetch is stub.fetch() of a Durable Object: (ns, id, request).
func opObjectFetch(in *Instance, args []any) (any, error) {
	ns, err := in.argNamespace(args, 0)
	if err != nil {
		return nil, err
	}
	id, _ := webapi.ArgString(args, 1)
	return in.sendFetch(ns.Object(id), args, 2, true)
}

// opObjectCall is an RPC call on a Durable Object stub: (ns, id, method, args).
func opObjectCall(in *Instance, args []any) (any, error) {
	ns, err := in.argNamespace(args, 0)
	if err != nil {
		return nil, err
	}
	id, _ := webapi.ArgString(args, 1)
	method, _ := webapi.ArgString(args, 2)
	return in.call(ns.Object(id), method, args, 3)
}

// opObjectAbort is ctx.abort(message): the object breaks and restarts from
// storage on its next event.
func opObjectAbort(in *Instance, args []any) (any, error) {
	msg, _ := webapi.ArgString(args, 0)
	in.breakWith(&warren.Error{Code: warren.CodeUnavailable, Message: "the Durable Object aborted itself: " + msg, Hint: "retry the request; the object restarts from storage"})
	return nil, nil
}
